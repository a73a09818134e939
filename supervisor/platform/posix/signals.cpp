#include <csignal>

#include "supervisor/platform/platform.h"

namespace handoff::platform {

std::vector<SignalBinding> supervisor_signals() {
  return {{SIGINT, SignalAction::shutdown}, {SIGTERM, SignalAction::shutdown}, {SIGHUP, SignalAction::reload}};
}

}  // namespace handoff::platform
