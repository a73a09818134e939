// Windows has no SO_REUSEPORT groups: its apps use master dispatch (or HTTP.SYS), and the
// config refuses `dispatch: kernel` (core/dispatch_mode.cpp) before anything starts.
#include "supervisor/platform/kernel_dispatch.h"

#include <uv.h>

namespace handoff::platform {

bool kernel_dispatch_available(std::string& why) {
  why = "Windows has no SO_REUSEPORT groups; use `dispatch: master` (the default there)";
  return false;
}

std::intptr_t open_reuseport_socket(const std::string&, int, bool, int, int& error) {
  error = UV_ENOTSUP;
  return -1;
}

std::intptr_t duplicate_socket(std::intptr_t) { return -1; }

std::vector<std::intptr_t> accept_waiting(std::intptr_t) { return {}; }

std::optional<std::chrono::milliseconds> waited_in_queue(std::intptr_t) { return std::nullopt; }

// Nothing to observe: no kernel dispatch here.
std::optional<AcceptQueue> accept_queue(std::intptr_t) { return std::nullopt; }
std::optional<std::uint64_t> socket_inode(std::intptr_t) { return std::nullopt; }
std::vector<ListeningSocket> listening_sockets() { return {}; }
std::int64_t pid_holding_socket(std::uint64_t) { return 0; }

bool attach_source_hash(std::intptr_t, int, std::span<const std::uint32_t>, std::string& why, bool) {
  why = "Windows has no SO_REUSEPORT groups";
  return false;
}

bool detach_source_hash(std::intptr_t, std::string& why) {
  why = "Windows has no SO_REUSEPORT groups";
  return false;
}

}  // namespace handoff::platform
