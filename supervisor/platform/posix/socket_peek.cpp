#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <sys/uio.h>

#include <cerrno>

#include "supervisor/platform/platform.h"

namespace handoff::platform {

uv_os_sock_t socket_of(const uv_tcp_t* tcp) {
  uv_os_fd_t fd = -1;
  uv_fileno(reinterpret_cast<const uv_handle_t*>(tcp), &fd);
  return fd;
}

bool is_listening(uv_os_sock_t socket) {
  int listening = 0;
  socklen_t length = sizeof listening;
  return ::getsockopt(socket, SOL_SOCKET, SO_ACCEPTCONN, &listening, &length) == 0 && listening;
}

bool can_peek() { return true; }

long peek_socket(uv_os_sock_t socket, char* buffer, std::size_t length) {
  ssize_t n;
  do n = ::recv(socket, buffer, length, MSG_PEEK | MSG_DONTWAIT);
  while (n < 0 && errno == EINTR);
  return n >= 0 ? static_cast<long>(n) : -errno;
}

long send_socket(uv_os_sock_t socket, const std::string_view* pieces, std::size_t count) {
  iovec vectors[8];
  if (count > 8) return UV_EINVAL;
  for (std::size_t i = 0; i < count; ++i) vectors[i] = {const_cast<char*>(pieces[i].data()), pieces[i].size()};
  msghdr message{};
  message.msg_iov = vectors;
  message.msg_iovlen = count;
  ssize_t n;
  do n = ::sendmsg(socket, &message, MSG_NOSIGNAL | MSG_DONTWAIT);
  while (n < 0 && errno == EINTR);
  return n >= 0 ? static_cast<long>(n) : -errno;
}

long discard_socket(uv_os_sock_t socket, std::size_t length) {
  char sink[512];
  std::size_t done = 0;
  while (done < length) {
    const std::size_t want = length - done < sizeof sink ? length - done : sizeof sink;
    const ssize_t n = ::recv(socket, sink, want, MSG_DONTWAIT);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return n == 0 ? static_cast<long>(done) : -errno;
    done += static_cast<std::size_t>(n);
  }
  return static_cast<long>(done);
}

void accept_when_data_arrives(uv_os_sock_t listening_socket) {
#ifdef TCP_DEFER_ACCEPT  // Linux; other POSIX systems accept at once, which is only slower
  const int seconds = 1;  // after this a silent connection is accepted anyway (and gets 408 later)
  (void)::setsockopt(listening_socket, IPPROTO_TCP, TCP_DEFER_ACCEPT, &seconds, sizeof seconds);
#else
  (void)listening_socket;
#endif
}

void set_receive_low_water(uv_os_sock_t socket, std::size_t bytes) {
  const int value = static_cast<int>(bytes);
  // Best effort: without it the loop wakes for every segment of a slow head, no worse.
  (void)::setsockopt(socket, SOL_SOCKET, SO_RCVLOWAT, &value, sizeof value);
}

}  // namespace handoff::platform
