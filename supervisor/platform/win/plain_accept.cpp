// Windows listeners accept through libuv (uv_listen, uv_accept): each connection is a
// libuv handle from the start, and libuv sends it to a worker (WSADuplicateSocket).
#include "supervisor/platform/platform.h"

namespace handoff::platform {

bool can_accept_plain() { return false; }

void close_socket(std::intptr_t socket) { closesocket(static_cast<SOCKET>(socket)); }
std::intptr_t open_tcp_socket(const std::string&, int, bool, bool, int, int& error) {
  error = UV_ENOSYS;
  return -1;
}
int listen_socket(uv_os_sock_t, int) { return UV_ENOSYS; }
std::intptr_t accept_plain(uv_os_sock_t, sockaddr_storage&) { return UV_ENOSYS; }
long send_with_socket(const uv_pipe_t*, std::string_view, uv_os_sock_t) { return UV_ENOSYS; }

int max_handle_window() { return 1; }

}  // namespace handoff::platform
