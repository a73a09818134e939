#include <csignal>

#include "supervisor/platform/platform.h"

namespace handoff::platform {

std::vector<SignalBinding> supervisor_signals() {
  return {{SIGINT, SignalAction::shutdown}, {SIGTERM, SignalAction::shutdown}, {SIGHUP, SignalAction::reload},
          {SIGUSR1, SignalAction::reopen_logs}};
}

}  // namespace handoff::platform
