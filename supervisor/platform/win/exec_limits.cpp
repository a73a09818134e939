// Windows: what CreateProcess takes. Both of its strings are UTF-16 and bounded at 32767
// characters: the environment block (each "NAME=value" with its NUL, and a final NUL) and
// the command line libuv joins from argv (each argument, quoted when it needs it, and a
// space or the final NUL). Built by the Windows build.
#include <windows.h>

#include "supervisor/platform/platform.h"

namespace handoff::platform {
namespace {

constexpr std::size_t kMostCharacters = 32767;

// UTF-8 in, UTF-16 characters out (as the strings reach CreateProcessW).
std::size_t utf16_length(const std::string& text) {
  if (text.empty()) return 0;
  const int n = MultiByteToWideChar(CP_UTF8, 0, text.data(), static_cast<int>(text.size()), nullptr, 0);
  return n > 0 ? static_cast<std::size_t>(n) : text.size();
}

}  // namespace

std::optional<ExecOverflow> exec_overflow(const std::vector<std::string>& argv, const std::vector<std::string>& env) {
  std::size_t block = 1;  // the block's final NUL
  for (const auto& assignment : env) block += utf16_length(assignment) + 1;
  if (block > kMostCharacters)
    return ExecOverflow{std::nullopt, std::nullopt,
                        "the environment block is " + std::to_string(block) +
                            " characters (UTF-16, each variable with its NUL); CreateProcess accepts at most " +
                            std::to_string(kMostCharacters)};
  // Without the quotes libuv may add: what is refused here is refused whatever the quoting.
  std::size_t command_line = 0;
  for (const auto& argument : argv) command_line += utf16_length(argument) + 1;
  if (command_line > kMostCharacters)
    return ExecOverflow{std::nullopt, std::nullopt,
                        "the command line is at least " + std::to_string(command_line) +
                            " characters (UTF-16); CreateProcess accepts at most " + std::to_string(kMostCharacters)};
  return std::nullopt;
}

}  // namespace handoff::platform
