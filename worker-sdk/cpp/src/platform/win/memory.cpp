#include "../platform.h"

namespace handoff::platform {

// The Windows heap decommits free pages by itself.
void release_free_memory() {}

}  // namespace handoff::platform
