#include "supervisor/edge/short_server.h"

#include <string>

#include "protocols/native_handle.h"
#include "supervisor/platform/service.h"
#include "uvglue/timer.h"
#include "uvglue/uv_write.h"

namespace handoff {

struct ShortServer::Connection {
  ~Connection() {
    if (pending) pending->owner = nullptr;
  }
  ShortServer* server = nullptr;
  UvWrite* pending = nullptr;  // the answer being written; its owner is this connection
  UvHandle<uv_tcp_t> tcp;
  UvHandle<uv_pipe_t> pipe;
  Timer timer;
  std::unique_ptr<Session> session;
  std::size_t received = 0;
  bool answering = false;
  char buffer[4096];

  uv_stream_t* stream() const { return tcp ? tcp.stream() : pipe.stream(); }
};

ShortServer::ShortServer(uv_loop_t* loop, Limits limits, Accept accept)
    : loop_(loop), limits_(limits), accept_(std::move(accept)) {}

ShortServer::~ShortServer() { close(); }

void ShortServer::close() {
  tcp_.reset();
  pipe_.reset();
  server_ = nullptr;
  for (Connection* c : connections_) {
    c->server = nullptr;
    delete c;  // its handles close; their callbacks see no data
  }
  connections_.clear();
}

int ShortServer::listen_tcp(const std::string& host, int port) {
  sockaddr_storage address{};
  int rc = host.find(':') != std::string::npos ? uv_ip6_addr(host.c_str(), port, reinterpret_cast<sockaddr_in6*>(&address))
                                               : uv_ip4_addr(host.c_str(), port, reinterpret_cast<sockaddr_in*>(&address));
  if (rc != 0) return rc;
  tcp_ = UvHandle<uv_tcp_t>::make();
  if ((rc = uv_tcp_init(loop_, tcp_.get())) != 0) return rc;
  tcp_.mark_initialized();
  tcp_->data = this;
  if ((rc = uv_tcp_bind(tcp_.get(), reinterpret_cast<const sockaddr*>(&address), 0)) != 0) return rc;
  server_ = tcp_.stream();
  return uv_listen(server_, 64, [](uv_stream_t* s, int status) {
    if (auto* me = static_cast<ShortServer*>(s->data); me && status == 0) me->on_connection();
  });
}

int ShortServer::listen_pipe(const std::string& path) {
  pipe_ = UvHandle<uv_pipe_t>::make();
  int rc = uv_pipe_init(loop_, pipe_.get(), 0);
  if (rc != 0) return rc;
  pipe_.mark_initialized();
  pipe_->data = this;
  if ((rc = uv_pipe_bind(pipe_.get(), platform::local_endpoint(path).c_str())) != 0) return rc;
  std::string why;
  if (!platform::restrict_local_endpoint(pipe_.get(), path, why)) return UV_EPERM;
  pipe_path_ = path;
  server_ = pipe_.stream();
  return uv_listen(server_, 64, [](uv_stream_t* s, int status) {
    if (auto* me = static_cast<ShortServer*>(s->data); me && status == 0) me->on_connection();
  });
}

std::string ShortServer::pipe_access() const {
  return pipe_ ? platform::local_endpoint_access(pipe_.get(), pipe_path_) : std::string("none");
}

int ShortServer::bound_port() const {
  if (!tcp_) return 0;
  sockaddr_storage address{};
  int length = sizeof address;
  if (uv_tcp_getsockname(tcp_.get(), reinterpret_cast<sockaddr*>(&address), &length) != 0) return 0;
  if (address.ss_family == AF_INET6) return ntohs(reinterpret_cast<sockaddr_in6*>(&address)->sin6_port);
  return ntohs(reinterpret_cast<sockaddr_in*>(&address)->sin_port);
}

void ShortServer::on_connection() {
  auto* c = new Connection{};
  c->server = this;
  if (tcp_) {
    c->tcp = UvHandle<uv_tcp_t>::make();
    uv_tcp_init(loop_, c->tcp.get());
    c->tcp.mark_initialized();
    c->tcp->data = c;
  } else {
    c->pipe = UvHandle<uv_pipe_t>::make();
    uv_pipe_init(loop_, c->pipe.get(), 0);
    c->pipe.mark_initialized();
    c->pipe->data = c;
  }
  connections_.insert(c);
  if (uv_accept(server_, c->stream()) != 0) return drop(c);
  uv_os_fd_t fd{};
  if (uv_fileno(reinterpret_cast<uv_handle_t*>(c->stream()), &fd) != 0) return drop(c);
  c->session = accept_(as_intptr(fd));  // the session's platform code knows what it is
  if (!c->session) return drop(c);
  // The session lives inside the connection: while it can call this, `c` is alive.
  c->session->answer_later = [c](std::string answer) {
    if (c->server && !c->answering) c->server->finish(c, std::move(answer));
  };

  c->timer = Timer(loop_);
  c->timer.start<[](Connection& conn) {
    if (!conn.server || conn.answering) return;
    conn.server->finish(&conn, conn.session->timed_out());
  }>(c, static_cast<std::uint64_t>(limits_.timeout.count()));

  uv_read_start(
      c->stream(),
      [](uv_handle_t* h, size_t, uv_buf_t* buf) {
        auto* conn = static_cast<Connection*>(h->data);
        *buf = uv_buf_init(conn->buffer, sizeof conn->buffer);
      },
      [](uv_stream_t* s, ssize_t n, const uv_buf_t* buf) {
        auto* conn = static_cast<Connection*>(s->data);
        if (!conn || !conn->server || conn->answering) return;
        ShortServer* me = conn->server;
        if (n < 0) return me->drop(conn);  // gone before asking anything complete
        if (n == 0) return;
        conn->received += static_cast<std::size_t>(n);
        if (conn->received > me->limits_.max_request) return me->finish(conn, conn->session->too_large());
        if (auto answer = conn->session->feed({buf->base, static_cast<std::size_t>(n)}))
          me->finish(conn, std::move(*answer));
      });
}

void ShortServer::finish(Connection* c, std::string answer) {
  c->answering = true;
  uv_read_stop(c->stream());
  c->timer.stop();
  if (answer.empty()) {
    c->session->answered();
    return drop(c);
  }
  auto write = std::make_unique<UvWrite>(std::move(answer));
  write->owner = c;
  c->pending = write.get();
  const int rc = UvWrite::start(std::move(write), c->stream(), [](UvWrite& written, int) {
    auto* conn = static_cast<Connection*>(written.owner);
    // The server may have closed meanwhile and deleted the connection (the handle's
    // close cancelled this write).
    if (!conn) return;
    conn->pending = nullptr;
    ShortServer* me = conn->server;
    auto session = std::move(conn->session);
    if (me) me->drop(conn);
    if (session) session->answered();
  });
  if (rc != 0) {
    c->pending = nullptr;  // (freed by start)
    c->session->answered();
    drop(c);
  }
}

void ShortServer::drop(Connection* c) {
  connections_.erase(c);
  delete c;
}

}  // namespace handoff
