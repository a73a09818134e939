// systemd's side of the service manager interface, through Debian's libsystemd.
#include "supervisor/platform/service.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

namespace handoff::platform {

void notify_service_manager(std::string_view state) {
  const std::string text(state);
  (void)sd_notify(0, text.c_str());  // no NOTIFY_SOCKET: nothing to do
}

std::optional<std::chrono::microseconds> watchdog_interval() {
  std::uint64_t usec = 0;
  if (sd_watchdog_enabled(0, &usec) <= 0 || usec == 0) return std::nullopt;
  return std::chrono::microseconds(usec);
}

std::vector<InheritedListener> take_inherited_listeners() {
  std::vector<InheritedListener> out;
  const int n = sd_listen_fds(1);  // 1: unset LISTEN_PID/LISTEN_FDS/LISTEN_FDNAMES
  for (int fd = SD_LISTEN_FDS_START; n > 0 && fd < SD_LISTEN_FDS_START + n; ++fd) {
    InheritedListener l;
    l.fd = fd;
    sockaddr_storage address{};
    socklen_t length = sizeof address;
    if (sd_is_socket(fd, AF_UNSPEC, SOCK_STREAM, 1) > 0 &&
        getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0) {
      char text[INET6_ADDRSTRLEN] = {};
      if (address.ss_family == AF_INET) {
        const auto* in = reinterpret_cast<const sockaddr_in*>(&address);
        inet_ntop(AF_INET, &in->sin_addr, text, sizeof text);
        l.port = ntohs(in->sin_port);
      } else if (address.ss_family == AF_INET6) {
        const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&address);
        inet_ntop(AF_INET6, &in6->sin6_addr, text, sizeof text);
        l.port = ntohs(in6->sin6_port);
      }
      l.host = text;
    }
    out.push_back(std::move(l));
  }
  return out;
}

void close_inherited(std::intptr_t fd) { ::close(static_cast<int>(fd)); }

}  // namespace handoff::platform
