#include <cstdio>

#include "supervisor/platform/platform.h"

namespace handoff::platform {

void use_binary_stdio() {}  // POSIX streams never translate line ends

std::FILE* open_log_append(const std::string& path) { return std::fopen(path.c_str(), "abe"); }  // e: O_CLOEXEC

}  // namespace handoff::platform
