// A configuration problem, located in its file. Formatted like a compiler diagnostic:
//   configs/cluster.yaml:7:14: apps[0].workers: expected an integer, got "two"
#pragma once

#include <string>
#include <vector>

#include "supervisor/core/config.h"

namespace handoff {

struct ConfigError {
  std::string file;
  Location where;
  std::string field;  // "apps[0].workers"; empty for whole-file problems
  std::string message;

  std::string to_string() const {
    std::string s = file;
    // Appended piece by piece: `":" + std::to_string(...)` trips GCC 12's -Wrestrict at -O3
    // (a false positive, GCC bug 105329).
    if (where.line > 0) s.append(":").append(std::to_string(where.line)).append(":").append(std::to_string(where.column));
    s += ": ";
    if (!field.empty()) s += field + ": ";
    return s + message;
  }
};

using ConfigErrors = std::vector<ConfigError>;

}  // namespace handoff
