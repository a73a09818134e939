#include "channel.h"

#include "uvglue/read_buffer.h"
#include "write_request.h"

#include <cstdio>

namespace handoff {

Channel::Channel(uv_loop_t* loop, Callbacks callbacks) : loop_(loop), callbacks_(std::move(callbacks)) {}

int Channel::open(int fd) {
  auto pipe = UvHandle<uv_pipe_t>::make();
  if (int rc = uv_pipe_init(loop_, pipe.get(), /*ipc=*/1); rc != 0) return rc;
  pipe.mark_initialized();
  if (int rc = uv_pipe_open(pipe.get(), fd); rc != 0) return rc;
  pipe->data = this;
  if (int rc = uv_read_start(pipe.stream(), alloc_read_buffer, on_read); rc != 0) return rc;
  pipe_ = std::move(pipe);
  return 0;
}

void Channel::send_line(std::string line) {
  if (!pipe_) return;
  auto* request = new WriteRequest;
  request->head = std::move(line);
  // The master answers nothing to our lines, so a failed write only matters through
  // the read side, which reports EOF or an error when the master is gone.
  if (request->write(pipe_.stream(), [](uv_write_t* req, int) { delete WriteRequest::from(req); }) != 0)
    delete request;
}

int Channel::send_handle(std::string line, uv_stream_t* socket) {
  if (!pipe_) return UV_EPIPE;
  auto* request = new WriteRequest;
  request->head = std::move(line);
  uv_buf_t buf = uv_buf_init(request->head.data(), static_cast<unsigned>(request->head.size()));
  request->req.data = request;
  const int rc = uv_write2(&request->req, pipe_.stream(), &buf, 1, socket,
                           [](uv_write_t* req, int) { delete WriteRequest::from(req); });
  if (rc != 0) delete request;
  return rc;
}

void Channel::close() { pipe_.reset(); }

void Channel::on_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) {
  auto* self = static_cast<Channel*>(stream->data);
  if (self == nullptr) return;
  if (nread > 0) {
    self->protocol_.feed({buf->base, static_cast<std::size_t>(nread)}, *self);
    return;
  }
  if (nread < 0) {
    if (nread != UV_EOF) self->log(std::string("ipc: channel read failed: ") + uv_strerror(static_cast<int>(nread)));
    self->close();
    if (self->callbacks_.closed) self->callbacks_.closed();
  }
}

bool Channel::take_handle(const ipc::Conn& conn) {
  if (!pipe_ || uv_pipe_pending_count(pipe_.get()) <= 0) return false;
  if (uv_pipe_pending_type(pipe_.get()) != UV_TCP) {
    discard_handle();
    return false;
  }
  auto tcp = UvHandle<uv_tcp_t>::make();
  if (uv_tcp_init(loop_, tcp.get()) != 0) return false;
  tcp.mark_initialized();
  if (uv_accept(pipe_.stream(), tcp.stream()) != 0) return false;
  if (callbacks_.connection) callbacks_.connection(std::move(tcp), conn);
  return true;
}

// Accepts the pending descriptor only to close it: left pending, it would be taken by
// the next NODE_HANDLE line, which carries its own.
void Channel::discard_handle() {
  if (!pipe_ || uv_pipe_pending_count(pipe_.get()) <= 0) return;
  const uv_handle_type type = uv_pipe_pending_type(pipe_.get());
  if (type == UV_TCP) {
    auto tcp = UvHandle<uv_tcp_t>::make();
    if (uv_tcp_init(loop_, tcp.get()) != 0) return;
    tcp.mark_initialized();
    (void)uv_accept(pipe_.stream(), tcp.stream());
  } else if (type == UV_NAMED_PIPE) {
    auto pipe = UvHandle<uv_pipe_t>::make();
    if (uv_pipe_init(loop_, pipe.get(), 0) != 0) return;
    pipe.mark_initialized();
    (void)uv_accept(pipe_.stream(), pipe.stream());
  }
}

void Channel::welcome(const ipc::Welcome& w) {
  if (callbacks_.welcome) callbacks_.welcome(w);
}

void Channel::drain(const ipc::Drain& d) {
  if (callbacks_.drain) callbacks_.drain(d);
}

void Channel::route(const ipc::Route& r) {
  if (callbacks_.route) callbacks_.route(r);
}

void Channel::handle_answered(bool acknowledged) {
  if (callbacks_.handle_answered) callbacks_.handle_answered(acknowledged);
}

void Channel::log(std::string_view what) {
  std::fprintf(stderr, "handoff worker: %.*s\n", static_cast<int>(what.size()), what.data());
}

}  // namespace handoff
