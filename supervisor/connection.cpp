#include "supervisor/connection.h"

#include <cstring>

namespace handoff {

bool read_peer_address(Connection& c) {
  sockaddr_storage peer{};
  int length = sizeof peer;
  if (uv_tcp_getpeername(c.socket.get(), reinterpret_cast<sockaddr*>(&peer), &length) != 0) return false;
  char text[64] = {};
  if (peer.ss_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(&peer);
    std::memcpy(c.address.data(), &in->sin_addr, 4);
    c.address_length = 4;
    c.port = ntohs(in->sin_port);
    uv_ip4_name(in, text, sizeof text);
  } else if (peer.ss_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&peer);
    static constexpr unsigned char kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    // An IPv4 client on a dual-stack socket hashes like the same client on IPv4.
    if (std::memcmp(&in6->sin6_addr, kMapped, sizeof kMapped) == 0) {
      std::memcpy(c.address.data(), reinterpret_cast<const unsigned char*>(&in6->sin6_addr) + 12, 4);
      c.address_length = 4;
    } else {
      std::memcpy(c.address.data(), &in6->sin6_addr, 16);
      c.address_length = 16;
    }
    c.port = ntohs(in6->sin6_port);
    uv_ip6_name(in6, text, sizeof text);
  } else {
    return false;
  }
  c.address_text = text;
  return true;
}

namespace {
struct RejectWrite {
  uv_write_t req;
  std::string response;
  ConnectionPtr connection;
};
}  // namespace

void reject(ConnectionPtr connection, std::string_view status) {
  auto* w = new RejectWrite{};
  w->response = "HTTP/1.1 " + std::string(status) +
                "\r\nContent-Type: text/plain\r\nContent-Length: " + std::to_string(status.size() + 1) +
                "\r\nRetry-After: 1\r\nConnection: close\r\n\r\n" + std::string(status) + "\n";
  w->connection = std::move(connection);
  uv_buf_t buf = uv_buf_init(w->response.data(), static_cast<unsigned>(w->response.size()));
  const int rc = uv_write(&w->req, w->connection->socket.stream(), &buf, 1,
                          [](uv_write_t* req, int) { delete reinterpret_cast<RejectWrite*>(req); });
  if (rc != 0) delete w;
}

}  // namespace handoff
