// Reading Linux's /proc/PID/stat: a process's CPU time and memory in one read. Pure (text
// in), so the field positions and the command name with spaces or parentheses in it are
// unit-tested.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace handoff::platform {

struct ProcStat {
  std::uint64_t cpu_ticks = 0;       // utime + stime, in clock ticks (sysconf(_SC_CLK_TCK))
  std::uint64_t virtual_bytes = 0;   // vsize
  std::uint64_t resident_pages = 0;  // rss
};

// nullopt when the text is not a stat line.
std::optional<ProcStat> parse_proc_stat(std::string_view text);

}  // namespace handoff::platform
