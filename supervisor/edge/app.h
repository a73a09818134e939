// An app at run time: its slots, its Dispatcher (supervisor/core/dispatcher.h: the rule,
// on_unavailable, the queues), and the rolling of its workers when its config changes.
// Here is the glue: connections from its listeners go into the dispatcher, its slots'
// reports too, and what the dispatcher decides is carried out on sockets and workers.
#pragma once

#include <uv.h>

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "protocols/scoreboard.h"
#include "uvglue/timer.h"
#include "supervisor/core/config.h"
#include "supervisor/core/dispatcher.h"
#include "supervisor/core/kernel_group.h"
#include "supervisor/core/rolling_reload.h"
#include "supervisor/core/scale_watch.h"
#include "supervisor/edge/acceptor.h"
#include "supervisor/edge/cache_front.h"
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
  std::function<void(const RollReport&)> on_roll_end;  // a roll of its workers ended (however)
  // A scale's slots settled (or it was interrupted): ok, and its line (ScaleWatch).
  std::function<void(const std::string& app, bool ok, const std::string& line)> on_scale_end;
  // Kernel dispatch: the inodes of every listening socket the master holds for its apps
  // (all of them: another app's group on an overlapping address is no stranger). Unset:
  // this app's own.
  std::function<std::set<std::uint64_t>()> master_kernel_sockets;
};

class App final : private SlotObserver, private DispatchEffects<ConnectionPtr>, private RollingReload::Effects {
 public:
  App(uv_loop_t* loop, std::shared_ptr<const AppConfig> config, std::size_t ipc_max_message,
      std::function<void()> on_stopped, AppHooks hooks = {});
  ~App();

  void start();
  // Kernel dispatch: a listening socket for each slot that has none yet, in slot order
  // (the master calls it once its listeners are open, before it drops privileges; a
  // scale-up for the slots it adds). No-op under master dispatch.
  void open_kernel_queues();
  // Adds the inodes of the kernel dispatch sockets it holds (its slots', its removed
  // slots' still draining) to `inodes`.
  void kernel_sockets(std::set<std::uint64_t>& inodes) const;
  void stop(std::chrono::milliseconds grace);
  void kill_all();
  bool stopped() const;

  // A reload: new lifecycle and queue settings apply at once, the rule is swapped,
  // `workers` scales, and the workers roll slot by slot: all of them (`roll_all`, so new
  // code on disk starts) or only if the command/env/cwd/user/http changed.
  // True when a roll started.
  bool reconfigure(std::shared_ptr<const AppConfig> next, bool roll_all);
  // `supervisor restart APP`: every slot gets a new worker, one at a time. True when a
  // roll started (not when the app is stopping).
  bool restart();
  bool rolling() const { return roll_.rolling(); }
  // The roll under way (outcome `unfinished`), or how the last one ended.
  RollReport roll_report() const { return roll_.report(); }
  void sample_usage();

  // `waiting_since`: when it began to wait, if earlier than now (Dispatcher::dispatch).
  void dispatch(ConnectionPtr&& connection, const RequestHead* head = nullptr,
                std::optional<TimePoint> waiting_since = std::nullopt);

  // Whether this app's rule reads the request head (its listeners then peek it).
  // An app with an output cache reads every request head: its hits are answered there.
  bool needs_head() const { return policy_entry_->needs_head || cache_ != nullptr; }
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
  void on_handback(std::function<void(ConnectionPtr)> route_again);
  // The apps' own metrics: `metrics` to each slot's worker that offers them (the slots
  // asked are returned), and where their answers go.
  std::vector<int> ask_metrics(std::uint64_t id);
  void on_app_metrics(decltype(SlotContext::app_metrics) sink) { context_.app_metrics = std::move(sink); }
  // Changes the number of slots now (`supervisor scale`, or `workers` on reload); the
  // config file's value applies again at the next reload.
  void scale(int workers);
  // The last scale: whether its slots are still settling, and how it went (ScaleWatch).
  bool scaling() const { return scale_watch_ && !scale_watch_->complete(); }
  bool scale_ok() const { return !scale_watch_ || scale_watch_->ok(); }
  std::string scale_text() const { return scale_watch_ ? scale_watch_->describe() : config_->name + ": no scale"; }

  // ---- Observability ----
  // Answers a connection with an error status itself, and counts it (/metrics): the
  // master's one reject path (handoff::reject) with this app's counts. On a port of this
  // app alone, the classifier's 400/408/431 and the 404 of an unknown prefix come here too.
  void reject(ConnectionPtr connection, int status) override;
  int ready_workers() const;
  // The output cache, if the app has one (`supervisor cache purge`). An app in HTTP.SYS
  // mode has none: its `cache:` is HTTP.SYS's kernel cache, which its workers fill.
  CacheFront* cache() { return cache_.get(); }
  // `supervisor cache purge` for an app in HTTP.SYS mode with `cache:`: HTTP.SYS's kernel
  // cache flushed on each slot's queue under `prefix` (core/routing/httpsys_prefix.h).
  // false when it could not be done (not supported here, or HTTP.SYS failed); `text` says
  // what was done or why not.
  bool flush_kernel_cache(const std::string& prefix, std::string& text);
  bool kernel_cache() const { return config_->cache.enabled && !config_->httpsys.empty(); }
  std::size_t slot_count() const { return slots_.size(); }
  AppMetrics metrics() const;

  const AppConfig& config() const { return *config_; }

 private:
  // SlotObserver
  void slot_changed(std::size_t lane) override;
  void acked(std::size_t lane) override;
  void refused(std::size_t lane) override;
  void worker_gone(std::size_t lane) override;
  void worker_load(std::size_t lane, std::uint32_t open) override;
  void replacement_done(int slot, bool ok) override;
  // DispatchEffects
  bool send(std::size_t lane, ConnectionPtr& connection) override;
  void handed_off(std::size_t lane, const ConnectionPtr& connection, TimePoint::duration queue_wait) override;
  void misbehaved(std::size_t lane, KillReason reason, std::string detail) override;
  void queue_timeout(std::size_t lane) override;
  void queue_flushed(std::size_t lane, std::size_t connections) override;
  void queue_length(std::size_t lane, std::size_t waiting) override;
  // RollingReload::Effects
  std::size_t slots() const override { return slots_.size(); }
  SlotMachine::Replace replace(std::size_t index) override { return slots_[index]->replace(config_); }
  std::optional<std::int64_t> pid(std::size_t index) const override { return slots_[index]->pid(); }
  std::string failure(std::size_t index) const override { return slots_[index]->last_failure(); }
  void finished(const RollReport& report) override;
  bool start_roll(const char* why);

  // After each event the dispatcher took: kills it asked for, queue lengths shown, its timer.
  // Inline: on the hand-off path there is nothing to do.
  void settled() {
    if (!misbehaving_.empty() || dispatcher_.deadline_moved()) settle_effects();
  }
  void settle_effects();
  void arm_timer();
  Slot& add_slot(int number);
  void ready_changed();  // readiness counts, and the app's end when stopping
  void set_rule();  // the policy and the route check from config_
  void set_cache();  // the output cache as config_ says: made, changed or removed
  std::unique_ptr<CacheSegment> make_cache_table() const;
  void flush_kernel_cache_quietly();  // at a roll, in HTTP.SYS mode: flushed and logged
  void reap_retired();
  // The group of the app's slot sockets was built or changed: the one place where ip_hash's
  // program is attached (platform::attach_source_hash); round_robin needs none.
  void kernel_group_changed();
  // A scale-down took this slot's socket: the master accepts what reaches it (the queue
  // and what still arrives) and routes it to the slots that stay, until the slot stopped.
  void drain_kernel_queue(UvHandle<uv_tcp_t> socket, int slot);
  // The removed slot stopped: what waits is accepted and routed, then the socket closes.
  void close_kernel_queue(int slot);
  // The master accepts from `socket` and routes what it accepts (dispatch()). `error`: 0,
  // or the libuv error that keeps it from accepting (the socket is held all the same).
  std::unique_ptr<Acceptor> accept_for(UvHandle<uv_tcp_t> socket, int& error);
  // A connection the master accepted from a slot's kernel queue, routed with the time it
  // waited there (platform::waited_in_queue).
  void dispatch_from_kernel_queue(ConnectionPtr connection);
  // A slot whose worker does not accept from its kernel queue: the master accepts from it
  // itself (a duplicate descriptor) when kernel_queue_takeover_after() says (failing slots and
  // on_unavailable rehash or reject at once; queue after queue.timeout), and stops once the
  // slot is ready again. A slot merely restarting keeps what waits for its replacement.
  void watch_kernel_queue(const Slot& slot);
  void arm_kernel_queue_timer(TimePoint due);
  // Kernel dispatch: compares the sockets listening on the group's address with the
  // master's own; a stranger (another process in the SO_REUSEPORT group, taking a share
  // of the connections) is logged when it appears and when it goes, and shown in the
  // slots' records and /metrics. At the group's build and every kStrangerCheckEvery samples.
  void check_kernel_group();
  void watch_scale(const Slot& slot);  // an added or removed slot changed: the scale's end?
  void end_scale(const char* interrupted = nullptr);

  uv_loop_t* loop_;
  std::shared_ptr<const AppConfig> config_;
  std::function<void()> on_stopped_;
  AppHooks hooks_;
  SlotContext context_;
  const PolicyEntry* policy_entry_ = nullptr;
  Dispatcher<ConnectionPtr> dispatcher_;
  std::vector<std::unique_ptr<Slot>> slots_;
  std::vector<std::unique_ptr<Slot>> retired_;  // scaled away, draining
  std::map<int, std::unique_ptr<Acceptor>> draining_queues_;  // removed slots' sockets, by slot number
  // The group's sockets in the kernel's order (listen() appends; a close moves the last
  // into the closed one's place): where ip_hash's program finds each slot's socket.
  std::vector<std::intptr_t> group_;
  // ip_hash's program on the group, if one is: what it was made for (each slot's place
  // in the group, by port), so that the same one is not attached again.
  std::optional<std::pair<std::vector<std::uint32_t>, bool>> attached_program_;
  // ip_hash with on_unavailable rehash: down slots whose clients the program sends to the
  // next ready slot (the master's rehash, made by the kernel), by slot number.
  std::set<int> rerouted_;
  std::map<int, std::unique_ptr<Acceptor>> taken_over_;  // down slots' sockets the master accepts from (duplicates)
  std::map<int, TimePoint> kernel_down_since_;  // slots whose queue no worker accepts from, since when
  std::vector<Slot*> by_lane_;  // the dispatcher's lanes; null once a retired slot is freed
  struct Misbehaving {
    std::size_t lane;
    KillReason reason;
    std::string detail;
  };
  std::vector<Misbehaving> misbehaving_;  // lanes to report after the event
  Timer timer_;  // the dispatcher's next deadline
  Timer kernel_timer_;  // the next takeover due (watch_kernel_queue)
  std::optional<TimePoint> kernel_timer_at_;
  ipc::RouteCheck route_check_;
  std::unique_ptr<CacheFront> cache_;
  RollingReload roll_{*this, config_->name};
  std::optional<ScaleWatch> scale_watch_;  // the last scale
  bool scale_reported_ = false;
  bool stopping_ = false;
  RejectionCounts rejected_;
  Histogram handoff_latency_;
  Histogram queue_wait_;
  int ready_ = -1;  // ready workers at the last slot_changed, to report changes
  static constexpr unsigned kStrangerCheckEvery = 5;  // samples (seconds)
  unsigned samples_ = 0;
  std::optional<StrangerWatch> strangers_;  // kernel dispatch, once its group was built
  std::map<std::uint64_t, std::int64_t> stranger_pids_;  // by inode, as found when they appeared
};

}  // namespace handoff
