#include <fcntl.h>
#include <io.h>

#include <cstdio>

#include "supervisor/platform/platform.h"

namespace handoff::platform {

void use_binary_stdio() {
  _setmode(_fileno(stdout), _O_BINARY);
  _setmode(_fileno(stderr), _O_BINARY);
}

std::FILE* open_log_append(const std::string& path) { return std::fopen(path.c_str(), "abN"); }  // N: not inherited

}  // namespace handoff::platform
