#include "../platform.h"

#include <csignal>

namespace handoff::platform {

void ignore_sigpipe() { std::signal(SIGPIPE, SIG_IGN); }

}  // namespace handoff::platform
