#include <sched.h>
#include <unistd.h>

#include <algorithm>

#include "supervisor/platform/platform.h"

namespace handoff::platform {

int usable_cpu_count() {
#ifdef __linux__
  // The affinity mask, not the CPUs online: `taskset`, a cgroup cpuset (docker --cpuset-cpus,
  // systemd's AllowedCPUs=) narrow it, and workers beyond it would only share those CPUs.
  // The set is sized for the machine, so hosts with more than CPU_SETSIZE (1024) CPUs count too.
  const long configured = sysconf(_SC_NPROCESSORS_CONF);
  const int possible = static_cast<int>(std::max(configured, 1024L));
  cpu_set_t* set = CPU_ALLOC(possible);
  if (set) {
    const std::size_t size = CPU_ALLOC_SIZE(possible);
    CPU_ZERO_S(size, set);
    const int count = sched_getaffinity(0, size, set) == 0 ? CPU_COUNT_S(size, set) : 0;
    CPU_FREE(set);
    if (count > 0) return count;
  }
#endif
  const long online = sysconf(_SC_NPROCESSORS_ONLN);
  return online > 0 ? static_cast<int>(online) : 1;
}

}  // namespace handoff::platform
