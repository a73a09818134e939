// Windows: descriptor counts, user switching and OOM counts have no direct equivalent;
// RSS comes from the process's working set, CPU time from GetProcessTimes. Built and
// tested by the Windows build.
#include <windows.h>
#include <psapi.h>

#include "supervisor/platform/platform.h"

namespace handoff::platform {

int open_descriptor_count() {
  DWORD count = 0;
  GetProcessHandleCount(GetCurrentProcess(), &count);
  return static_cast<int>(count);
}

std::optional<Ids> resolve_user(const std::string&, const std::string&, std::string& error) {
  error = "running workers as another user is not supported on Windows";
  return std::nullopt;
}

bool drop_privileges(const Ids&, std::string& error) {
  error = "dropping privileges is not supported on Windows";
  return false;
}

std::optional<ProcessUsage> process_usage(int pid) {
  // The working set is what Windows calls resident; CPU time from the kernel and user
  // times (100 ns units).
  HANDLE process = pid == 0 ? GetCurrentProcess()
                            : OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, FALSE, static_cast<DWORD>(pid));
  if (!process) return std::nullopt;
  PROCESS_MEMORY_COUNTERS counters{};
  FILETIME created{}, exited{}, kernel{}, user{};
  const BOOL ok = GetProcessMemoryInfo(process, &counters, sizeof counters) &&
                  GetProcessTimes(process, &created, &exited, &kernel, &user);
  if (pid != 0) CloseHandle(process);
  if (!ok) return std::nullopt;
  const auto hundred_ns = [](const FILETIME& t) {
    return (static_cast<std::uint64_t>(t.dwHighDateTime) << 32) | t.dwLowDateTime;
  };
  ProcessUsage u;
  u.rss = static_cast<std::uint64_t>(counters.WorkingSetSize);
  u.cpu_ms = (hundred_ns(kernel) + hundred_ns(user)) / 10'000;
  return u;
}

std::optional<std::uint64_t> descriptor_limit() { return std::nullopt; }

std::optional<std::uint64_t> oom_kill_count() { return std::nullopt; }

}  // namespace handoff::platform
