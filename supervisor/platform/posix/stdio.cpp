#include "supervisor/platform/platform.h"

namespace handoff::platform {

void use_binary_stdio() {}  // POSIX streams never translate line ends

}  // namespace handoff::platform
