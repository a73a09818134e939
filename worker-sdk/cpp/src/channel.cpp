#include "channel.h"

#include "uvglue/read_buffer.h"
#include "uvglue/uv_write.h"

#include <cstdio>
#include <memory>
#include <utility>
#include <variant>

namespace handoff {

namespace {

void log(std::string_view what) {
  std::fprintf(stderr, "handoff worker: %.*s\n", static_cast<int>(what.size()), what.data());
}

}  // namespace

Channel::Channel(uv_loop_t* loop, Callbacks callbacks) : loop_(loop), callbacks_(std::move(callbacks)) {}

int Channel::open(int fd) {
  auto pipe = UvHandle<uv_pipe_t>::make();
  if (int rc = uv_pipe_init(loop_, pipe.get(), /*ipc=*/1); rc != 0) return rc;
  pipe.mark_initialized();
  if (int rc = uv_pipe_open(pipe.get(), fd); rc != 0) return rc;
  pipe->data = this;
  if (int rc = uv_read_start(pipe.stream(), alloc_read_buffer, on_read); rc != 0) return rc;
  auto flush = UvHandle<uv_check_t>::make();
  if (int rc = uv_check_init(loop_, flush.get()); rc != 0) return rc;
  flush.mark_initialized();
  flush->data = this;
  flush_ = std::move(flush);
  pipe_ = std::move(pipe);
  return 0;
}

void Channel::send_line(std::string line) {
  if (!pipe_) return;
  if (!answers_.empty()) line.insert(0, std::exchange(answers_, {}));  // in the order written
  send_now(std::move(line));
}

// The answers of one pass of the loop go in one write, at its end: the master, which
// sends several sockets before the first answer, reads them in one read.
void Channel::write_answer(std::string line) {
  if (!pipe_) return;
  answers_ += line;
  // Started once per pass (a second start is a no-op); it stops itself when it ran.
  uv_check_start(flush_.get(), [](uv_check_t* check) {
    if (auto* self = static_cast<Channel*>(check->data)) self->flush_answers();
  });
}

void Channel::flush_answers() {
  uv_check_stop(flush_.get());
  if (pipe_ && !answers_.empty()) send_now(std::exchange(answers_, {}));
}

void Channel::send_now(std::string line) {
  // The master answers nothing to our lines, so a failed write only matters through
  // the read side, which reports EOF or an error when the master is gone. Most lines (the
  // ACK of every connection) go at once, without a request or a callback.
  const int now = UvWrite::try_now(pipe_.stream(), line);
  if (now > 0 && static_cast<std::size_t>(now) == line.size()) return;
  if (now > 0) line.erase(0, static_cast<std::size_t>(now));
  (void)UvWrite::start(std::make_unique<UvWrite>(std::move(line)), pipe_.stream(), [](UvWrite&, int) {});
}

bool Channel::send_handle(std::string line, uv_stream_t* socket) {
  if (!pipe_ || end_.handle_in_flight()) return false;
  in_flight_ = socket;
  if (end_.send_handle(std::move(line), *this)) return true;
  in_flight_ = nullptr;
  return false;
}

bool Channel::write(std::string line, std::uint64_t handle) {
  if (!pipe_) return false;
  if (handle == 0) {
    send_line(std::move(line));
    return true;
  }
  if (!in_flight_) return false;
  flush_answers();  // they go before our handle's line
  // Its bytes go back to the channel end when written, for a resend if the master NACKs.
  auto write = std::make_unique<UvWrite>(std::move(line));
  write->tag = handle;
  const int rc = UvWrite::start(
      std::move(write), pipe_.stream(),
      [](UvWrite& w, int status) {
        // The stream's `data` is cleared before it closes: a cancelled write finds nobody.
        auto* self = static_cast<Channel*>(w.stream()->data);
        if (self && status == 0) self->end_.written(w.tag, w.take_bytes(), *self);
      },
      in_flight_);
  return rc == 0;
}

void Channel::close() {
  pipe_.reset();
  answers_.clear();
  if (flush_) flush_->data = nullptr;
  flush_.reset();
  received_.clear();
  in_flight_ = nullptr;
  end_.abandon_handle();
}

void Channel::on_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) {
  auto* self = static_cast<Channel*>(stream->data);
  if (self == nullptr) return;
  if (nread > 0) {
    std::size_t taken = 0;
    const std::string unusable = self->take_pending(taken);
    self->end_.feed({buf->base, static_cast<std::size_t>(nread)}, taken, *self, unusable);
    return;
  }
  if (nread < 0) {
    if (nread != UV_EOF) log(std::string("ipc: channel read failed: ") + uv_strerror(static_cast<int>(nread)));
    self->close();
    if (self->callbacks_.closed) self->callbacks_.closed();
  }
}

std::string Channel::take_pending(std::size_t& taken) {
  std::string unusable;
  // Each uv_accept takes one descriptor off the pending list, even when it fails; the
  // bound is for a libuv that would not.
  for (int guard = 0; guard < 1024 && pipe_ && uv_pipe_pending_count(pipe_.get()) > 0; ++guard) {
    const uv_handle_type type = uv_pipe_pending_type(pipe_.get());
    if (type == UV_TCP) {
      auto tcp = UvHandle<uv_tcp_t>::make();
      if (uv_tcp_init(loop_, tcp.get()) != 0) break;
      tcp.mark_initialized();
      if (uv_accept(pipe_.stream(), tcp.stream()) == 0) {
        received_.push_back(std::move(tcp));
        ++taken;
        continue;
      }
      unusable = "a descriptor the worker could not take";
      continue;
    }
    // Accepted only to be closed: left pending, it would be taken by the next read.
    unusable = std::string("a descriptor that is not a TCP socket (") + uv_handle_type_name(type) + ")";
    auto pipe = UvHandle<uv_pipe_t>::make();
    if (uv_pipe_init(loop_, pipe.get(), 0) != 0) break;
    pipe.mark_initialized();
    (void)uv_accept(pipe_.stream(), pipe.stream());
  }
  return unusable;
}

void Channel::message(const ipc::Message& message) {
  if (const auto* w = std::get_if<ipc::Welcome>(&message)) {
    if (callbacks_.welcome) callbacks_.welcome(*w);
  } else if (const auto* d = std::get_if<ipc::Drain>(&message)) {
    if (callbacks_.drain) callbacks_.drain(*d);
  } else if (const auto* r = std::get_if<ipc::Route>(&message)) {
    if (callbacks_.route) callbacks_.route(*r);
  } else if (const auto* m = std::get_if<ipc::Metrics>(&message)) {
    if (callbacks_.metrics) callbacks_.metrics(*m);
  }
  // Hello, Ready, Stats, Handback travel the other way; ignored.
}

bool Channel::take_descriptor(const ipc::Message& message) {
  if (!pipe_ || received_.empty()) return false;
  auto tcp = std::move(received_.front());
  received_.pop_front();
  if (const auto* listen = std::get_if<ipc::Listen>(&message)) {
    if (!callbacks_.listen) return false;  // NACKed: this worker cannot accept by itself
    callbacks_.listen(std::move(tcp), *listen);
    return true;
  }
  if (callbacks_.connection) callbacks_.connection(std::move(tcp), std::get<ipc::Handle>(message).conn);
  return true;
}

void Channel::close_descriptor() {
  if (!received_.empty()) received_.pop_front();
}

void Channel::handle_settled(bool taken) {
  in_flight_ = nullptr;
  if (callbacks_.handle_settled) callbacks_.handle_settled(taken);
}

// The worker's role reports none (it trusts the master); kept for the interface.
void Channel::violation(const std::string& reason) { log("ipc: " + reason); }

void Channel::ignored(ipc::ChannelEnd::Ignored kind, std::string_view detail) {
  using Ignored = ipc::ChannelEnd::Ignored;
  switch (kind) {
    case Ignored::malformed: return log("ipc: ignoring a malformed message: " + std::string(detail));
    case Ignored::oversize: return log("ipc: ignoring an oversize message of " + std::string(detail) + " bytes");
    case Ignored::unknown: return log("ipc: ignoring unknown message '" + std::string(detail) + "'");
    case Ignored::descriptor: return log("ipc: closing " + std::string(detail));
  }
}

}  // namespace handoff
