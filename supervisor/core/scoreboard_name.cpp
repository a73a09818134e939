#include "supervisor/core/scoreboard_name.h"

#include <cstdio>

#include <xxhash.h>

namespace handoff {

std::string scoreboard_name(std::string_view control_socket) {
  char text[40];
  std::snprintf(text, sizeof text, "handoff-%016llx",
                static_cast<unsigned long long>(XXH3_64bits(control_socket.data(), control_socket.size())));
  return text;
}

}  // namespace handoff
