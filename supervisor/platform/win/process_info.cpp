// Windows: descriptor counts, user switching and OOM counts have no direct equivalent;
// RSS comes from the process's working set. Built and tested by the Windows build.
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

std::optional<std::uint64_t> process_rss(int pid) {
  HANDLE process = OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, FALSE, static_cast<DWORD>(pid));
  if (!process) return std::nullopt;
  PROCESS_MEMORY_COUNTERS counters{};
  const BOOL ok = GetProcessMemoryInfo(process, &counters, sizeof counters);
  CloseHandle(process);
  if (!ok) return std::nullopt;
  return static_cast<std::uint64_t>(counters.WorkingSetSize);
}

std::optional<std::uint64_t> oom_kill_count() { return std::nullopt; }

}  // namespace handoff::platform
