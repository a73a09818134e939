// Windows has no systemd: services talk to the SCM instead, which a Windows service
// wrapper would do; the supervisor run from a console has nothing to notify.
#include "supervisor/platform/service.h"

namespace handoff::platform {

void notify_service_manager(std::string_view) {}

std::optional<std::chrono::microseconds> watchdog_interval() { return std::nullopt; }

std::vector<InheritedListener> take_inherited_listeners() { return {}; }

void close_inherited(std::intptr_t) {}

}  // namespace handoff::platform
