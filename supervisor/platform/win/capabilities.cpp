// Windows has no capability sets to pass on to children: nothing to keep from workers.
#include "supervisor/platform/platform.h"

namespace handoff::platform {

void keep_capabilities_from_workers() {}

bool clear_capabilities(std::string&) { return true; }

KillCapabilityForChild::KillCapabilityForChild() { (void)raised_; }

KillCapabilityForChild::~KillCapabilityForChild() = default;

}  // namespace handoff::platform
