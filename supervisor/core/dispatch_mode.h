// Which intake an app's connections take: the master's (it accepts each connection and
// hands it to a slot's worker) or the kernel's (Linux: one SO_REUSEPORT listening socket
// per slot, which the slot's worker accepts from itself; the master does no work per
// connection). Decided once per config, here, from the app and its listeners alone.
#pragma once

#include <optional>
#include <string>
#include <string_view>
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

// A slot's kernel queue while no worker of the slot accepts from it (its worker died or
// is restarting, or the slot is failing): what waits there, and what the kernel still
// sends there, either waits for the slot's next worker (nothing is reset: the socket is
// the master's) or is taken by the master, which accepts from the socket itself and
// routes what it takes by the app's rule and on_unavailable, exactly as under master
// dispatch. kernel_queue_takeover() says which, and when, counted from the moment the
// slot stopped being ready.
struct KernelQueueSlot {
  bool ready = false;    // a worker of the slot accepts (LaneState::ready)
  bool failing = false;  // never ready and its start failed, or in a crash loop
};
enum class TakeoverReason { failing, no_affinity, rehash, reject, queue_timeout };
struct KernelQueueTakeover {
  Milliseconds after{0};
  TakeoverReason reason = TakeoverReason::failing;
};
// nullopt: the queue is left to the slot. `affinity`: the app's rule sends a client to one
// slot (ip_hash), so waiting for that slot has a purpose.
std::optional<KernelQueueTakeover> kernel_queue_takeover(const KernelQueueSlot& slot, bool affinity,
                                                         Unavailable on_unavailable, Milliseconds queue_timeout);
std::string_view name_of(TakeoverReason reason);

}  // namespace handoff
