// Windows has no SIGTERM or SIGHUP to send to a process. libuv's console control handler
// reports Ctrl+C (SIGINT), Ctrl+Break (SIGBREAK) and the console closing (SIGHUP): each
// one stops the supervisor gracefully. A reload goes through the control socket
// (`supervisor reload -c CONFIG`, a named pipe there), the stand-in for SIGHUP. There is
// no SIGUSR1 either: `log_file` is rotated by size only (docs/windows.md).
#include <uv.h>  // SIGHUP, which libuv defines for Windows

#include <csignal>

#include "supervisor/platform/platform.h"

namespace handoff::platform {

std::vector<SignalBinding> supervisor_signals() {
  return {{SIGINT, SignalAction::shutdown}, {SIGBREAK, SignalAction::shutdown}, {SIGHUP, SignalAction::shutdown}};
}

}  // namespace handoff::platform
