#include <sys/resource.h>
#include <unistd.h>

#include <fstream>
#include <iterator>
#include <string>

#include "supervisor/platform/platform.h"
#include "supervisor/platform/posix/proc_stat.h"

namespace handoff::platform {

std::optional<ProcessUsage> process_usage(int pid) {
  // /proc/PID/stat: CPU time and memory in one short read.
  std::ifstream file(pid == 0 ? std::string("/proc/self/stat") : "/proc/" + std::to_string(pid) + "/stat");
  const std::string text{std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>()};
  const auto stat = parse_proc_stat(text);
  if (!stat) return std::nullopt;
  static const auto page = static_cast<std::uint64_t>(sysconf(_SC_PAGESIZE));
  static const auto ticks_per_second = static_cast<std::uint64_t>(sysconf(_SC_CLK_TCK));
  ProcessUsage u;
  u.rss = stat->resident_pages * page;
  u.virtual_bytes = stat->virtual_bytes;
  u.cpu_ms = ticks_per_second > 0 ? stat->cpu_ticks * 1000 / ticks_per_second : 0;
  return u;
}

std::optional<std::uint64_t> descriptor_limit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY) return std::nullopt;
  return static_cast<std::uint64_t>(limit.rlim_cur);
}

std::optional<std::uint64_t> oom_kill_count() {
  // cgroup v2: the line "0::/path" of /proc/self/cgroup names our group; its
  // memory.events counts oom_kill. Workers live in the supervisor's cgroup.
  std::ifstream cgroup("/proc/self/cgroup");
  std::string line, path;
  while (std::getline(cgroup, line))
    if (line.rfind("0::", 0) == 0) path = line.substr(3);
  if (path.empty()) return std::nullopt;
  std::ifstream events("/sys/fs/cgroup" + path + "/memory.events");
  std::string key;
  std::uint64_t value = 0;
  while (events >> key >> value)
    if (key == "oom_kill") return value;
  return std::nullopt;
}

}  // namespace handoff::platform
