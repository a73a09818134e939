#include "supervisor/core/dispatch_mode.h"

#include <algorithm>

#include "supervisor/core/routing/dispatch_policy.h"

namespace handoff {
namespace {

// Why the kernel cannot be the intake of `app`, or empty.
std::string kernel_problem(const AppConfig& app, const std::vector<DispatchListener>& listeners,
                           const KernelDispatchFacts& facts) {
  if (!facts.available) return facts.why_not.empty() ? "kernel dispatch is not available here" : facts.why_not;
  const std::string& rule = app.policy.name;
  if (rule == "least_connections")
    return "least_connections counts each worker's open connections, which the kernel's choice of a socket "
           "cannot see; use `dispatch: master` (or round_robin)";
  if (rule == "ip_hash" && !facts.source_hash)
    return "ip_hash under kernel dispatch needs the source-address program (classic BPF on the SO_REUSEPORT "
           "group), which this system cannot attach; use `dispatch: master`";
  if (rule != "round_robin" && rule != "ip_hash") {
    const PolicyEntry* entry = find_policy(rule);
    return "the rule `" + rule + "` " +
           (entry && entry->needs_head ? std::string("reads the request, which only the master's intake does")
                                       : std::string("runs in the master")) +
           "; kernel dispatch takes round_robin and ip_hash";
  }
  if (listeners.size() != 1)
    return "kernel dispatch takes an app with one listener; this one serves " + std::to_string(listeners.size());
  const DispatchListener& l = listeners.front();
  if (l.config->is_httpsys()) return "listener \"" + l.config->name + "\" is an HTTP.SYS listener";
  if (l.shared)
    return "listener \"" + l.config->name + "\" is shared by several apps: only the master's intake picks the app";
  if (l.config->proxy_protocol)
    return "listener \"" + l.config->name + "\" takes a PROXY protocol header, which only the master's intake reads";
  if (!app.routes.empty()) return "the app has `routes`, URL prefixes which only the master's intake reads";
  if (app.cache.enabled) return "the app has a `cache`, whose hits the master's intake answers";
  return {};
}

}  // namespace

DispatchChoice choose_dispatch(const AppConfig& app, const std::vector<DispatchListener>& listeners,
                               const KernelDispatchFacts& facts) {
  DispatchChoice choice;
  choice.why_master = kernel_problem(app, listeners, facts);
  if (app.dispatch_asked == DispatchMode::master) {
    if (choice.why_master.empty()) choice.why_master = "`dispatch: master`";
    return choice;
  }
  const bool wanted = app.dispatch_asked == DispatchMode::kernel || app.ready == ReadyMode::sdk;
  if (!choice.why_master.empty()) return choice;
  if (!wanted) {
    choice.why_master = "plain workers (`ready: on_spawn`) keep master dispatch unless they ask for `dispatch: kernel`";
    return choice;
  }
  choice.kernel_listener = *listeners.front().config;
  // Each slot's socket is that slot's queue: it holds what waits while the slot has no
  // worker, as queue.max bounds under master dispatch (the kernel caps it at
  // net.core.somaxconn). The listener's own backlog bounds only the master's accept queue.
  choice.kernel_listener->backlog = static_cast<int>(std::min<std::size_t>(app.queue.max, 1 << 30));
  return choice;
}

std::optional<KernelQueueTakeover> kernel_queue_takeover(const KernelQueueSlot& slot, bool affinity,
                                                         Unavailable on_unavailable, Milliseconds queue_timeout) {
  if (slot.ready) return std::nullopt;
  // A slot that will not come back soon: its clients go where the rule sends them (another
  // slot without affinity, or 503), as its master-dispatch queue is flushed.
  if (slot.failing) return KernelQueueTakeover{Milliseconds{0}, TakeoverReason::failing};
  // round_robin under master dispatch never waits for a slot that is down; neither do its
  // clients here: the master hands them to the ready slots (SIGKILL test in
  // kernel-dispatch.test.js: only what the dead worker had accepted is lost).
  if (!affinity) return KernelQueueTakeover{Milliseconds{0}, TakeoverReason::no_affinity};
  switch (on_unavailable) {
    case Unavailable::rehash: return KernelQueueTakeover{Milliseconds{0}, TakeoverReason::rehash};
    case Unavailable::reject: return KernelQueueTakeover{Milliseconds{0}, TakeoverReason::reject};
    case Unavailable::queue:
      // They wait for the slot's next worker in the kernel's queue. Once the slot has been
      // down for queue.timeout, some may have waited that long: the master takes them,
      // answers 503 to those that did (the kernel says how long each waited) and keeps the
      // rest in its own queue for the slot until it is back.
      return KernelQueueTakeover{queue_timeout, TakeoverReason::queue_timeout};
  }
  return std::nullopt;
}

std::string_view name_of(TakeoverReason reason) {
  switch (reason) {
    case TakeoverReason::failing: return "failing";
    case TakeoverReason::no_affinity: return "no_affinity";
    case TakeoverReason::rehash: return "rehash";
    case TakeoverReason::reject: return "reject";
    case TakeoverReason::queue_timeout: return "queue_timeout";
  }
  return "";
}

}  // namespace handoff
