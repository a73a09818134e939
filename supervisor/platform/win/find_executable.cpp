// Windows: PATH is ';'-separated and a program may omit its extension (PATHEXT).
// Not built on Linux; the Windows build (issue 9) compiles and tests it.
#include <cstdlib>
#include <filesystem>
#include <string_view>
#include <vector>

#include "supervisor/platform/platform.h"

namespace handoff::platform {
namespace {

std::vector<std::string> split(std::string_view text, char sep) {
  std::vector<std::string> out;
  while (true) {
    const auto at = text.find(sep);
    out.emplace_back(text.substr(0, at));
    if (at == std::string_view::npos) return out;
    text.remove_prefix(at + 1);
  }
}

std::optional<std::string> with_extension(const std::filesystem::path& base) {
  std::error_code ec;
  if (base.has_extension() && std::filesystem::is_regular_file(base, ec)) return base.string();
  const char* pathext = std::getenv("PATHEXT");
  for (const auto& ext : split(pathext ? pathext : ".COM;.EXE;.BAT;.CMD", ';')) {
    auto candidate = base;
    candidate += ext;
    if (std::filesystem::is_regular_file(candidate, ec)) return candidate.string();
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::string> find_executable(const std::string& program, const std::string& cwd) {
  namespace fs = std::filesystem;
  if (program.find_first_of("/\\") != std::string::npos) {
    const fs::path p = fs::path(program).is_absolute() ? fs::path(program) : fs::path(cwd) / program;
    return with_extension(p);
  }
  const char* path = std::getenv("PATH");
  for (const auto& dir : split(path ? path : "", ';'))
    if (auto found = with_extension(fs::path(dir.empty() ? "." : dir) / program)) return found;
  return std::nullopt;
}

}  // namespace handoff::platform
