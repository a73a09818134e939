#include "supervisor/platform/posix/proc_stat.h"

#include <charconv>
#include <vector>

namespace handoff::platform {

std::optional<ProcStat> parse_proc_stat(std::string_view text) {
  // "pid (comm) state ppid ...": comm may hold spaces and ')' itself, so the fields start
  // after the last ')'. Counted from there (state is 0): utime 11, stime 12, vsize 20, rss 21.
  const auto close = text.rfind(')');
  if (close == std::string_view::npos) return std::nullopt;
  std::vector<std::string_view> fields;
  std::size_t at = close + 1;
  while (fields.size() < 22) {
    while (at < text.size() && text[at] == ' ') ++at;
    if (at >= text.size()) return std::nullopt;
    const auto end = std::min(text.find_first_of(" \n", at), text.size());
    fields.push_back(text.substr(at, end - at));
    at = end;
  }
  const auto number = [&](std::size_t i, std::uint64_t& out) {
    const auto f = fields[i];
    return std::from_chars(f.data(), f.data() + f.size(), out).ec == std::errc{};
  };
  ProcStat s;
  std::uint64_t utime = 0, stime = 0;
  if (!number(11, utime) || !number(12, stime) || !number(20, s.virtual_bytes) || !number(21, s.resident_pages))
    return std::nullopt;
  s.cpu_ticks = utime + stime;
  return s;
}

}  // namespace handoff::platform
