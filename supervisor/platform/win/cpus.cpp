// Windows: the process affinity mask (`start /affinity`, a job object's). It covers the
// process's processor group only, at most 64 CPUs, as on any Windows process that does not
// opt in to several groups.
#include <windows.h>

#include <bit>

#include "supervisor/platform/platform.h"

namespace handoff::platform {

int usable_cpu_count() {
  DWORD_PTR process_mask = 0, system_mask = 0;
  if (GetProcessAffinityMask(GetCurrentProcess(), &process_mask, &system_mask) && process_mask != 0)
    return std::popcount(static_cast<unsigned long long>(process_mask));
  SYSTEM_INFO info{};
  GetSystemInfo(&info);
  return info.dwNumberOfProcessors > 0 ? static_cast<int>(info.dwNumberOfProcessors) : 1;
}

}  // namespace handoff::platform
