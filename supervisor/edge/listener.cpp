#include "supervisor/edge/listener.h"

#include "supervisor/edge/log.h"

namespace handoff {

int Listener::open(uv_loop_t* loop, const ListenerConfig& config, OnConnection on_connection,
                   std::optional<std::intptr_t> inherited) {
  config_ = config;
  on_connection_ = std::move(on_connection);
  sockaddr_storage address{};
  int rc = config.host.find(':') != std::string::npos
               ? uv_ip6_addr(config.host.c_str(), config.port, reinterpret_cast<sockaddr_in6*>(&address))
               : uv_ip4_addr(config.host.c_str(), config.port, reinterpret_cast<sockaddr_in*>(&address));
  if (rc != 0) return rc;
  socket_ = UvHandle<uv_tcp_t>::make();
  if ((rc = uv_tcp_init(loop, socket_.get())) != 0) return rc;
  socket_.mark_initialized();
  socket_->data = this;
  if (inherited) {
    // Socket activation: the service manager bound it (and keeps it across our restarts).
    if ((rc = uv_tcp_open(socket_.get(), static_cast<uv_os_sock_t>(*inherited))) != 0) return rc;
  } else if ((rc = uv_tcp_bind(socket_.get(), reinterpret_cast<const sockaddr*>(&address), 0)) != 0) {
    return rc;
  }
  rc = uv_listen(socket_.stream(), config.backlog, [](uv_stream_t* server, int status) {
    auto* me = static_cast<Listener*>(server->data);
    if (!me) return;
    if (status < 0) {
      log_event("accept_failed", {{"listener", me->config_.name}, {"error", uv_strerror(status)}});
      return;
    }
    me->accept_one();
  });
  return rc;
}

int Listener::hold(uv_loop_t* loop, const ListenerConfig& config, std::intptr_t socket) {
  config_ = config;
  socket_ = UvHandle<uv_tcp_t>::make();
  if (const int rc = uv_tcp_init(loop, socket_.get()); rc != 0) return rc;
  socket_.mark_initialized();
  return uv_tcp_open(socket_.get(), static_cast<uv_os_sock_t>(socket));
}

void Listener::accept_one() {
  auto connection = std::make_unique<Connection>();
  connection->socket = UvHandle<uv_tcp_t>::make();
  uv_tcp_init(socket_->loop, connection->socket.get());
  connection->socket.mark_initialized();
  if (uv_accept(socket_.stream(), connection->socket.stream()) != 0) return;
  if (!read_peer_address(*connection)) return;  // reset before we looked: nothing to serve
  connection->id = next_id_++;
  connection->accepted_at = std::chrono::steady_clock::now();
  connection->listener = config_.name;
  on_connection_(std::move(connection));
}

}  // namespace handoff
