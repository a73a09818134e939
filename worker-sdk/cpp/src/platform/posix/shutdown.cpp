#include <sys/socket.h>

#include "platform/platform.h"

namespace handoff::platform {

bool shutdown_now(const uv_tcp_t* tcp) {
  uv_os_fd_t fd = -1;
  if (uv_fileno(reinterpret_cast<const uv_handle_t*>(tcp), &fd) != 0) return false;
  return ::shutdown(fd, SHUT_WR) == 0;
}

}  // namespace handoff::platform
