#include "supervisor/edge/listener.h"

#include "supervisor/edge/log.h"
#include "supervisor/platform/platform.h"

namespace handoff {

int Listener::open(uv_loop_t* loop, const ListenerConfig& config, OnConnection on_connection,
                   std::optional<std::intptr_t> inherited) {
  config_ = config;
  name_plain_ = ipc::plain_json_text(config_.name);
  on_connection_ = std::move(on_connection);
  int rc = 0;
  auto socket = UvHandle<uv_tcp_t>::make();
  if ((rc = uv_tcp_init(loop, socket.get())) != 0) return rc;
  socket.mark_initialized();
  if (inherited) {
    // Socket activation: the service manager bound it (and keeps it across our restarts).
    if ((rc = uv_tcp_open(socket.get(), static_cast<uv_os_sock_t>(*inherited))) != 0) return rc;
  } else if (platform::can_accept_plain()) {
    // Bound here and now: the acceptor listens itself, and libuv's uv_tcp_bind would keep
    // EADDRINUSE for a uv_listen that never comes.
    const std::intptr_t fd = platform::open_tcp_socket(config.host, config.port, false, false, 0, rc);
    if (fd < 0) return rc;
    if ((rc = uv_tcp_open(socket.get(), static_cast<uv_os_sock_t>(fd))) != 0) {
      platform::close_socket(fd);
      return rc;
    }
  } else {
    sockaddr_storage address{};
    rc = config.host.find(':') != std::string::npos
             ? uv_ip6_addr(config.host.c_str(), config.port, reinterpret_cast<sockaddr_in6*>(&address))
             : uv_ip4_addr(config.host.c_str(), config.port, reinterpret_cast<sockaddr_in*>(&address));
    if (rc != 0 || (rc = uv_tcp_bind(socket.get(), reinterpret_cast<const sockaddr*>(&address), 0)) != 0) return rc;
  }
  return acceptor_.start(
      std::move(socket), config.backlog,
      [this](ConnectionPtr&& connection) {
        connection->id = next_id_++;
        connection->listener = config_.name;
        connection->listener_plain = name_plain_;
        on_connection_(std::move(connection));
      },
      [this](int error) { log_event("accept_failed", {{"listener", config_.name}, {"error", uv_strerror(error)}}); });
}

int Listener::hold(uv_loop_t* loop, const ListenerConfig& config, std::intptr_t socket) {
  config_ = config;
  held_ = UvHandle<uv_tcp_t>::make();
  if (const int rc = uv_tcp_init(loop, held_.get()); rc != 0) return rc;
  held_.mark_initialized();
  return uv_tcp_open(held_.get(), static_cast<uv_os_sock_t>(socket));
}

}  // namespace handoff
