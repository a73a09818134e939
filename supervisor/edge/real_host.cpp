#include "supervisor/edge/real_host.h"

#include <uv.h>

#include <cstdlib>

#include "supervisor/edge/shared_library.h"
#include "supervisor/platform/httpsys.h"
#include "supervisor/platform/kernel_dispatch.h"
#include "supervisor/platform/platform.h"

namespace handoff {

Environment supervisor_environment() {
  Environment out;
  uv_env_item_t* items = nullptr;
  int count = 0;
  if (uv_os_environ(&items, &count) != 0) return out;
  for (int i = 0; i < count; ++i) out.emplace_back(items[i].name, items[i].value);
  uv_os_free_environ(items, count);
  return out;
}

namespace {

KernelDispatchFacts kernel_dispatch_facts() {
  // Read at the first config load, before the master takes LISTEN_FDS away, and kept, so
  // that a reload decides as the start did.
  static const bool socket_activated = std::getenv("LISTEN_FDS") != nullptr;
  KernelDispatchFacts facts;
  facts.available = platform::kernel_dispatch_available(facts.why_not);
  if (facts.available && socket_activated) {
    // The service manager's sockets are not in an SO_REUSEPORT group of ours.
    facts.available = false;
    facts.why_not = "the listeners come from the service manager (LISTEN_FDS); kernel dispatch needs the master to "
                    "bind them itself";
  }
  // ip_hash's program (platform::attach_source_hash) goes wherever the groups do: Linux.
  facts.source_hash = facts.available;
  return facts;
}

}  // namespace

const HostFacts& real_host() {
  static const HostFacts host{
      .usable_cpu_count = &platform::usable_cpu_count,
      .environment = &supervisor_environment,
      .find_executable = &platform::find_executable,
      .resolve_user = &platform::resolve_user,
      .httpsys_available = &platform::httpsys_available,
      .kernel_dispatch = &kernel_dispatch_facts,
      .exec_overflow = &platform::exec_overflow,
      .load_library = &open_shared_library,
  };
  return host;
}

}  // namespace handoff
