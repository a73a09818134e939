#include <unistd.h>

#include <fstream>
#include <string>

#include "supervisor/platform/platform.h"

namespace handoff::platform {

std::optional<std::uint64_t> process_rss(int pid) {
  // /proc/PID/statm: size resident shared ... in pages. Cheap to read, no parsing of
  // the longer status file.
  std::ifstream statm("/proc/" + std::to_string(pid) + "/statm");
  std::uint64_t size = 0, resident = 0;
  if (!(statm >> size >> resident)) return std::nullopt;
  return resident * static_cast<std::uint64_t>(sysconf(_SC_PAGESIZE));
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
