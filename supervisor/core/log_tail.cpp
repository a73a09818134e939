#include "supervisor/core/log_tail.h"

#include <algorithm>

namespace handoff {

std::vector<std::string> last_lines(std::uint64_t file_size,
                                    const std::function<std::string(std::uint64_t, std::size_t)>& read, std::size_t n,
                                    const std::function<bool(std::string_view)>& wanted, std::size_t chunk) {
  std::vector<std::string> found;  // newest first
  std::uint64_t position = file_size;
  std::string text;  // [position, where the lines already taken begin)
  auto take = [&](std::string_view line) {
    if (!line.empty() && wanted(line)) found.emplace_back(line);
  };
  bool ended = false;  // the file's last byte is behind us (a final '\n' is no empty line)
  while (position > 0 && found.size() < n) {
    const auto size = static_cast<std::size_t>(std::min<std::uint64_t>(chunk, position));
    position -= size;
    text = read(position, size) + text;
    if (!ended) {
      ended = true;
      if (!text.empty() && text.back() == '\n') text.pop_back();
    }
    // Whole lines: those after a '\n' in what is read; what precedes the first '\n' may
    // begin in an earlier chunk and waits for it.
    for (auto nl = text.rfind('\n'); nl != std::string::npos && found.size() < n; nl = text.rfind('\n')) {
      take(std::string_view(text).substr(nl + 1));
      text.resize(nl);
    }
  }
  if (position == 0 && found.size() < n) take(text);
  std::reverse(found.begin(), found.end());
  return found;
}

}  // namespace handoff
