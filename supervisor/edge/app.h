// An app at run time: its slots, its routing rule, and the rolling of its workers when
// its config changes. Connections from its listeners come in through dispatch(); the
// rule names a slot; on_unavailable decides what happens when that slot has no worker.
#pragma once

#include <uv.h>

#include <functional>
#include <map>
#include <optional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "protocols/scoreboard.h"
#include "supervisor/core/config.h"
#include "supervisor/edge/connection.h"
#include "supervisor/core/observe/metrics_text.h"
#include "supervisor/core/routing/dispatch_policy.h"
#include "supervisor/platform/worker_group.h"
#include "supervisor/edge/slot.h"

namespace handoff {

// What the master shares with its apps for observability.
struct AppHooks {
  scoreboard::Header* scoreboard = nullptr;  // null: no scoreboard
  std::string scoreboard_name;
  // The user the segment was given to, besides the master's own: workers running as
  // any other user cannot map it and are reported from their `stats` instead.
  std::optional<std::uint32_t> scoreboard_uid;
  std::function<void()> on_ready_changed;  // some slot became ready or stopped being
  platform::WorkerGuard* worker_guard = nullptr;  // told of every worker (the master's)
};

class App {
 public:
  App(uv_loop_t* loop, std::shared_ptr<const AppConfig> config, std::size_t ipc_max_message,
      std::function<void()> on_stopped, AppHooks hooks = {});
  ~App();

  void start();
  void stop(std::chrono::milliseconds grace);
  void kill_all();
  bool stopped() const;

  // A reload: new lifecycle and queue settings apply at once, the rule is swapped,
  // `workers` scales, and a changed command/env/cwd/user rolls the workers slot by slot.
  void reconfigure(std::shared_ptr<const AppConfig> next);
  void sample_rss();

  void dispatch(ConnectionPtr connection, const RequestHead* head = nullptr);

  // Whether this app's rule reads the request head (its listeners then peek it).
  bool needs_head() const { return policy_entry_->needs_head; }
  // What its SDK workers check on each keep-alive request (welcome.route); the listeners
  // set the prefix part when apps share a port.
  const ipc::RouteCheck& route_check() const { return route_check_; }
  void set_foreign_prefixes(std::vector<std::string> prefixes);
  // The rule with the slot count it maps keys onto: what welcome says, and what a `route`
  // message tells workers that said hello before a reload or a scale changed it.
  ipc::Route route_message() const { return {static_cast<int>(slots_.size()), route_check_}; }
  // Sends route_message() to every SDK worker of its slots now (and logs it): the master
  // calls it when a reload or a scale changed it.
  void announce_route();
  // Where connections that workers hand back go (the master routes them again).
  void on_handback(std::function<void(ConnectionPtr)> route_again) { route_again_ = std::move(route_again); }
  void handed_back(ConnectionPtr connection);
  // Changes the number of slots now (`supervisor scale`, or `workers` on reload); the
  // config file's value applies again at the next reload.
  void scale(int workers);

  // ---- Observability ----
  // Answers a connection with an error status itself, and counts it (/metrics): the
  // master's one reject path (handoff::reject) with this app's counts. On a port of this
  // app alone, the classifier's 400/408/431 and the 404 of an unknown prefix come here too.
  void reject(ConnectionPtr connection, int status);
  void handed_off(const Connection& connection);  // its ACK came: hand-off latency
  int ready_workers() const;
  std::size_t slot_count() const { return slots_.size(); }
  AppMetrics metrics() const;

  // For slots.
  uv_loop_t* loop() const { return loop_; }
  const AppConfig& config() const { return *config_; }
  bool affinity() const { return policy_entry_->affinity; }
  std::size_t ipc_max_message() const { return ipc_max_message_; }
  const std::vector<std::pair<std::string, std::string>>& inherited_environment() const { return inherited_env_; }
  void slot_changed();  // a slot's readiness changed
  void redispatch(std::vector<ConnectionPtr> connections);
  void replacement_done(int slot, bool ok);
  scoreboard::Header* scoreboard() const { return hooks_.scoreboard; }
  const std::string& scoreboard_name() const { return hooks_.scoreboard_name; }
  platform::WorkerGuard* worker_guard() const { return hooks_.worker_guard; }
  bool scoreboard_for_workers(const AppConfig& config) const {
    return hooks_.scoreboard && (!config.run_as.uid || config.run_as.uid == hooks_.scoreboard_uid);
  }

 private:
  void refresh_views();
  void set_rule();  // the policy and the route check from config_
  void roll_step();
  void reap_retired();
  std::optional<std::size_t> rehash(std::size_t home) const;

  uv_loop_t* loop_;
  std::shared_ptr<const AppConfig> config_;
  std::size_t ipc_max_message_;
  std::function<void()> on_stopped_;
  std::vector<std::pair<std::string, std::string>> inherited_env_;
  const PolicyEntry* policy_entry_;
  std::unique_ptr<DispatchPolicy> policy_;
  std::vector<std::unique_ptr<Slot>> slots_;
  std::vector<std::unique_ptr<Slot>> retired_;  // scaled away, draining
  std::vector<SlotView> views_;
  ipc::RouteCheck route_check_;
  std::function<void(ConnectionPtr)> route_again_;
  std::size_t roll_next_ = 0;  // the slot a rolling reload replaces next
  bool rolling_ = false;
  bool stopping_ = false;
  AppHooks hooks_;
  RejectionCounts rejected_;
  Histogram handoff_latency_;
  int ready_ = -1;  // ready workers at the last slot_changed, to report changes
};

}  // namespace handoff
