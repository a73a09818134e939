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

std::string cache_table_name(std::string_view scoreboard, std::string_view app) {
  char text[24];  // the app's name hashed: any name makes a valid segment name
  std::snprintf(text, sizeof text, "-cache-%016llx", static_cast<unsigned long long>(XXH3_64bits(app.data(), app.size())));
  return std::string(scoreboard) + text;
}

}  // namespace handoff
