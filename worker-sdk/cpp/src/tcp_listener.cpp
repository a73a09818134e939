#include "tcp_listener.h"

#include <cstdio>
#include <cstring>

#include "protocols/defaults.h"

namespace handoff {

namespace {

int resolve(uv_loop_t* loop, const std::string& host, int port, sockaddr_storage* out) {
  std::memset(out, 0, sizeof *out);
  if (uv_ip4_addr(host.c_str(), port, reinterpret_cast<sockaddr_in*>(out)) == 0) return 0;
  if (uv_ip6_addr(host.c_str(), port, reinterpret_cast<sockaddr_in6*>(out)) == 0) return 0;
  // A host name: resolved once, synchronously (no callback), before serving starts.
  uv_getaddrinfo_t req;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  const std::string service = std::to_string(port);
  if (int rc = uv_getaddrinfo(loop, &req, nullptr, host.c_str(), service.c_str(), &hints); rc != 0) return rc;
  std::memcpy(out, req.addrinfo->ai_addr, req.addrinfo->ai_addrlen);
  uv_freeaddrinfo(req.addrinfo);
  return 0;
}

}  // namespace

TcpListener::TcpListener(uv_loop_t* loop, OnConnection on_connection)
    : loop_(loop), on_connection_(std::move(on_connection)) {}

int TcpListener::listen(const std::string& host, int port) {
  sockaddr_storage address;
  if (int rc = resolve(loop_, host, port, &address); rc != 0) return rc;
  auto tcp = UvHandle<uv_tcp_t>::make();
  if (int rc = uv_tcp_init(loop_, tcp.get()); rc != 0) return rc;
  tcp.mark_initialized();
  if (int rc = uv_tcp_bind(tcp.get(), reinterpret_cast<const sockaddr*>(&address), 0); rc != 0) return rc;
  tcp->data = this;
  if (int rc = uv_listen(tcp.stream(), defaults::kBacklog, on_connection); rc != 0) return rc;
  tcp_ = std::move(tcp);
  return 0;
}

int TcpListener::adopt(UvHandle<uv_tcp_t> tcp, int backlog) {
  tcp->data = this;
  if (int rc = uv_listen(tcp.stream(), backlog > 0 ? backlog : defaults::kBacklog, on_connection); rc != 0) return rc;
  tcp_ = std::move(tcp);
  return 0;
}

int TcpListener::port() const {
  if (!tcp_) return 0;
  sockaddr_storage address{};
  int length = sizeof address;
  if (uv_tcp_getsockname(tcp_.get(), reinterpret_cast<sockaddr*>(&address), &length) != 0) return 0;
  if (address.ss_family == AF_INET6) return ntohs(reinterpret_cast<const sockaddr_in6*>(&address)->sin6_port);
  return ntohs(reinterpret_cast<const sockaddr_in*>(&address)->sin_port);
}

void TcpListener::on_connection(uv_stream_t* server, int status) {
  auto* self = static_cast<TcpListener*>(server->data);
  if (self == nullptr) return;
  if (status < 0) {
    // EMFILE and friends: this connection waits in the backlog; the next accept retries.
    std::fprintf(stderr, "handoff worker: accept failed: %s\n", uv_strerror(status));
    return;
  }
  auto client = UvHandle<uv_tcp_t>::make();
  if (uv_tcp_init(self->loop_, client.get()) != 0) return;
  client.mark_initialized();
  if (uv_accept(server, client.stream()) != 0) return;
  self->on_connection_(std::move(client));
}

}  // namespace handoff
