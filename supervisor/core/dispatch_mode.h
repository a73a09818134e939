// Which intake an app's connections take: the master's (it accepts each connection and
// hands it to a slot's worker) or the kernel's (Linux: one SO_REUSEPORT listening socket
// per slot, which the slot's worker accepts from itself; the master does no work per
// connection). Decided once per config, here, from the app and its listeners alone.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "supervisor/core/config.h"

namespace handoff {

// What the machine offers (HostFacts::kernel_dispatch answers it).
struct KernelDispatchFacts {
  bool available = false;  // SO_REUSEPORT groups the master can hand to workers (Linux)
  std::string why_not;     // when not available: why, for an explicit `dispatch: kernel`
  // ip_hash's program (classic BPF picking the group's socket by source address) can be
  // attached; without it the kernel spreads by 4-tuple, which is round_robin's spread.
  bool source_hash = false;
};

// One listener of the app, as the decision sees it.
struct DispatchListener {
  const ListenerConfig* config = nullptr;
  bool shared = false;  // other apps serve it too
};

struct DispatchChoice {
  // Set: kernel dispatch on this listener. Unset: master dispatch.
  std::optional<ListenerConfig> kernel_listener;
  // Why the kernel cannot take this app's connections (empty: it can). An error when the
  // app asked for `dispatch: kernel`; the reason it keeps master dispatch otherwise.
  std::string why_master;
};

// The default: kernel for apps whose workers say hello (`ready: sdk`) when the kernel can
// honour their rule on their listener; master for plain workers unless they ask.
DispatchChoice choose_dispatch(const AppConfig& app, const std::vector<DispatchListener>& listeners,
                               const KernelDispatchFacts& facts);

}  // namespace handoff
