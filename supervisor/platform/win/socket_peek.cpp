// Windows has MSG_PEEK but no SO_RCVLOWAT, and a peeking read would spin on a partial
// head under IOCP; the master reads the head instead and carries the bytes with the
// handle (Connection::carried), which both SDKs replay.
#include "supervisor/platform/platform.h"

namespace handoff::platform {

uv_os_sock_t socket_of(const uv_tcp_t* tcp) {
  uv_os_fd_t handle = INVALID_HANDLE_VALUE;
  uv_fileno(reinterpret_cast<const uv_handle_t*>(tcp), &handle);
  return reinterpret_cast<uv_os_sock_t>(handle);
}

bool is_listening(uv_os_sock_t socket) {
  BOOL listening = FALSE;
  int length = sizeof listening;
  return getsockopt(socket, SOL_SOCKET, SO_ACCEPTCONN, reinterpret_cast<char*>(&listening), &length) == 0 && listening;
}

bool can_peek() { return false; }
long peek_socket(uv_os_sock_t, char*, std::size_t) { return UV_ENOSYS; }
long discard_socket(uv_os_sock_t, std::size_t) { return UV_ENOSYS; }
// Connections arrive as libuv handles here and stay so: the master writes through them.
long send_socket(uv_os_sock_t, const std::string_view*, std::size_t) { return UV_ENOSYS; }
void accept_when_data_arrives(uv_os_sock_t) {}
void set_receive_low_water(uv_os_sock_t, std::size_t) {}

}  // namespace handoff::platform
