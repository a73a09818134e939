#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "protocols/ipc_messages.h"
#include "supervisor/platform/platform.h"

namespace handoff::platform {

bool can_accept_plain() { return true; }

void close_socket(std::intptr_t socket) { ::close(static_cast<int>(socket)); }

std::intptr_t open_tcp_socket(const std::string& host, int port, bool reuseport, bool listen, int backlog, int& error) {
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
  // As libuv's uv_tcp_bind without UV_TCP_IPV6ONLY: SO_REUSEADDR (TIME_WAIT), and an IPv6
  // socket as the system makes it ("::" takes IPv4 clients too, as IPv4-mapped addresses,
  // unless net.ipv6.bindv6only says otherwise).
  bool ok = ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) == 0 &&
            (!reuseport || ::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof on) == 0) &&
            ::bind(fd, reinterpret_cast<const sockaddr*>(&address), length) == 0 && (!listen || ::listen(fd, backlog) == 0);
  if (!ok) {
    error = uv_translate_sys_error(errno);
    ::close(fd);
    return -1;
  }
  error = 0;
  return fd;
}

int listen_socket(uv_os_sock_t socket, int backlog) { return ::listen(socket, backlog) == 0 ? 0 : -errno; }

std::intptr_t accept_plain(uv_os_sock_t listening_socket, sockaddr_storage& peer) {
  for (;;) {
    socklen_t length = sizeof peer;
    const int fd = ::accept4(listening_socket, reinterpret_cast<sockaddr*>(&peer), &length, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd >= 0) return fd;
    if (errno == EINTR) continue;
    // EWOULDBLOCK is EAGAIN on Linux; the caller treats UV_EAGAIN as "none waits".
    return -errno;
  }
}

long send_with_socket(const uv_pipe_t* channel, std::string_view bytes, uv_os_sock_t socket) {
  uv_os_fd_t pipe = -1;
  if (const int rc = uv_fileno(reinterpret_cast<const uv_handle_t*>(channel), &pipe); rc != 0) return rc;
  iovec iov{const_cast<char*>(bytes.data()), bytes.size()};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  msghdr message{};
  message.msg_iov = &iov;
  message.msg_iovlen = 1;
  message.msg_control = control;
  message.msg_controllen = sizeof control;
  cmsghdr* header = CMSG_FIRSTHDR(&message);
  header->cmsg_level = SOL_SOCKET;
  header->cmsg_type = SCM_RIGHTS;
  header->cmsg_len = CMSG_LEN(sizeof(int));
  const int fd = socket;
  std::memcpy(CMSG_DATA(header), &fd, sizeof fd);
  for (;;) {
    const ssize_t n = ::sendmsg(pipe, &message, MSG_NOSIGNAL);
    if (n >= 0) return static_cast<long>(n);
    if (errno == EINTR) continue;
    return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -errno;
  }
}

int max_handle_window() { return ipc::kMaxHandleWindow; }

}  // namespace handoff::platform
