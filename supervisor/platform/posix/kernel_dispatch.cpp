#include "supervisor/platform/kernel_dispatch.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include <cerrno>
#include <cstring>

namespace handoff::platform {

bool kernel_dispatch_available(std::string& why) {
#ifdef __linux__
  (void)why;
  return true;
#else
  // SO_REUSEPORT elsewhere (BSDs, macOS) does not spread connections the same way.
  why = "kernel dispatch needs Linux's SO_REUSEPORT groups";
  return false;
#endif
}

std::intptr_t open_reuseport_socket(const std::string& host, int port, bool listen, int backlog, int& error) {
  sockaddr_storage address{};
  socklen_t length = 0;
  if (host.find(':') != std::string::npos) {
    auto* in6 = reinterpret_cast<sockaddr_in6*>(&address);
    if ((error = uv_ip6_addr(host.c_str(), port, in6)) != 0) return -1;
    length = sizeof *in6;
  } else {
    auto* in4 = reinterpret_cast<sockaddr_in*>(&address);
    if ((error = uv_ip4_addr(host.c_str(), port, in4)) != 0) return -1;
    length = sizeof *in4;
  }
  const int fd = ::socket(address.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    error = uv_translate_sys_error(errno);
    return -1;
  }
  const int on = 1;
  // As the master's own listeners (uv_tcp_bind without UV_TCP_IPV6ONLY): SO_REUSEADDR
  // (TIME_WAIT), and an IPv6 socket as the system makes it ("::" takes IPv4 clients too,
  // as IPv4-mapped addresses, unless net.ipv6.bindv6only says otherwise).
  bool ok = ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) == 0 &&
            ::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof on) == 0 &&
            ::bind(fd, reinterpret_cast<const sockaddr*>(&address), length) == 0 && (!listen || ::listen(fd, backlog) == 0);
  if (!ok) {
    error = uv_translate_sys_error(errno);
    ::close(fd);
    return -1;
  }
  error = 0;
  return fd;
}

std::intptr_t duplicate_socket(std::intptr_t socket) { return ::fcntl(static_cast<int>(socket), F_DUPFD_CLOEXEC, 0); }

std::vector<std::intptr_t> accept_waiting(std::intptr_t listening_socket) {
  std::vector<std::intptr_t> accepted;
  // Bounded by the backlog in practice; the cap is for a peer flooding us meanwhile.
  for (int i = 0; i < 65536; ++i) {
    const int fd = ::accept4(static_cast<int>(listening_socket), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      break;  // EAGAIN: the queue is empty
    }
    accepted.push_back(fd);
  }
  return accepted;
}

void close_socket(std::intptr_t socket) { ::close(static_cast<int>(socket)); }

std::optional<std::chrono::milliseconds> waited_in_queue(std::intptr_t connection) {
#ifdef __linux__
  tcp_info info{};
  socklen_t length = sizeof info;
  if (::getsockopt(static_cast<int>(connection), IPPROTO_TCP, TCP_INFO, &info, &length) != 0) return std::nullopt;
  // The kernel stamps a new connection's receive time at the handshake (the child socket's
  // icsk_ack.lrcvtime) and again with every segment of data.
  return std::chrono::milliseconds{info.tcpi_last_data_recv};
#else
  (void)connection;
  return std::nullopt;
#endif
}

bool attach_source_hash(std::intptr_t, int, std::string& why) {
  why = "the source-address program is not in this build";
  return false;
}

}  // namespace handoff::platform
