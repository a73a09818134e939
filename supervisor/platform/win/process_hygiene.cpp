#include "supervisor/platform/process_hygiene.h"

namespace handoff::platform {

// Windows has no SIGPIPE: a write to a closed pipe or socket is an error code already.
void ignore_harmless_signals() {}

// Handles are limited by memory, not by a per-process soft limit.
std::optional<DescriptorLimit> raise_descriptor_limit() { return std::nullopt; }

// libuv creates its pipes and sockets non-inheritable, and the master asks for nothing
// else to be inherited: there is nothing to mark.
int close_inherited_on_exec() { return 0; }

}  // namespace handoff::platform
