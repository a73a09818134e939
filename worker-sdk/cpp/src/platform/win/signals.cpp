#include "../platform.h"

namespace handoff::platform {

// Windows has no SIGPIPE: a write to a closed socket fails with an error code.
void ignore_sigpipe() {}

}  // namespace handoff::platform
