#include "supervisor/log.h"

#include <cstdio>
#include <string>

namespace handoff {

void log_line(std::string_view message) {
  std::string line = "[supervisor] ";
  line.append(message);
  line.push_back('\n');
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
}

}  // namespace handoff
