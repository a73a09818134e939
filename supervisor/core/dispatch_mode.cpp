#include "supervisor/core/dispatch_mode.h"

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
  if (rule == "ip_hash" && app.on_unavailable != Unavailable::queue)
    return "ip_hash with `on_unavailable: " +
           std::string(app.on_unavailable == Unavailable::rehash ? "rehash" : "reject") +
           "` is the master's decision when a slot is down (under kernel dispatch its clients wait in the slot's "
           "kernel queue); use `dispatch: master` or `on_unavailable: queue`";
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
  return choice;
}

}  // namespace handoff
