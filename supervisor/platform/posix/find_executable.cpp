#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string_view>

#include "supervisor/platform/platform.h"

namespace handoff::platform {
namespace {

bool is_executable_file(const std::filesystem::path& p) {
  std::error_code ec;
  return std::filesystem::is_regular_file(p, ec) && ::access(p.c_str(), X_OK) == 0;
}

}  // namespace

std::optional<std::string> find_executable(const std::string& program, const std::string& cwd) {
  namespace fs = std::filesystem;
  if (program.find('/') != std::string::npos) {
    const fs::path p = fs::path(program).is_absolute() ? fs::path(program) : fs::path(cwd) / program;
    if (is_executable_file(p)) return p.lexically_normal().string();
    return std::nullopt;
  }
  const char* path = std::getenv("PATH");
  std::string_view dirs = path ? path : "/usr/local/bin:/usr/bin:/bin";
  while (true) {
    const auto colon = dirs.find(':');
    const std::string_view dir = dirs.substr(0, colon);
    const fs::path candidate = fs::path(dir.empty() ? "." : std::string(dir)) / program;
    if (is_executable_file(candidate)) return candidate.string();
    if (colon == std::string_view::npos) break;
    dirs.remove_prefix(colon + 1);
  }
  return std::nullopt;
}

}  // namespace handoff::platform
