// One worker position of an app at run time: drives its SlotMachine with real processes
// and a timer, and carries handles to its worker. It decides nothing about connections:
// the app's Dispatcher does (supervisor/core/dispatcher.h); the slot reports what its
// lifecycle and its workers' ACKs, NACKs and exits mean for them to its SlotObserver.
#pragma once

#include <uv.h>

#include <functional>
#include <map>
#include <memory>
#include <random>
#include <vector>

#include "uvglue/timer.h"
#include "uvglue/uv_handle.h"

#include "protocols/scoreboard.h"
#include "supervisor/core/cache/output_cache.h"
#include "supervisor/edge/connection.h"
#include "supervisor/core/dispatcher.h"
#include "supervisor/core/observe/cpu_rate.h"
#include "supervisor/core/observe/restart_reasons.h"
#include "supervisor/platform/httpsys.h"
#include "supervisor/platform/worker_group.h"
#include "supervisor/core/slot_machine.h"
#include "supervisor/edge/worker_process.h"

namespace handoff {

// What every slot of an app shares, set once by the app (the hand-back sink by the master).
struct SlotContext {
  uv_loop_t* loop = nullptr;
  std::size_t ipc_max_message = 0;
  std::vector<std::pair<std::string, std::string>> inherited_env;
  scoreboard::Header* scoreboard = nullptr;  // null: no scoreboard
  std::string scoreboard_name;
  std::optional<std::uint32_t> scoreboard_uid;  // the workers' user it was given to
  platform::WorkerGuard* worker_guard = nullptr;
  std::function<void(ConnectionPtr)> hand_back;  // where connections workers give back go
  // Where the workers' `metrics_text` answers go (the master's scrape in progress).
  std::function<void(const std::string& app, int slot, const ipc::MetricsText&)> app_metrics;
  // Where the workers' `cache_put` and `cache_pass` go (the app's output cache).
  std::function<void(const ipc::CachePut&)> cache_put;
  std::function<void(const ipc::CachePass&)> cache_pass;
  // A worker died holding a fill it had not answered (its key and target).
  std::function<void(const ipc::CachePass&)> cache_fill_lost;
  std::string cache_table;  // the app's cache table, for C++ SDK workers (empty: none)

  bool scoreboard_for_workers(const AppConfig& config) const {
    return scoreboard && (!config.run_as.uid || config.run_as.uid == scoreboard_uid);
  }
};

// What a slot reports (its app feeds the dispatcher and its counts with it).
class SlotObserver {
 public:
  virtual void slot_changed(std::size_t lane) = 0;      // readiness or state changed
  virtual void acked(std::size_t lane) = 0;             // the handle in flight was taken
  virtual void refused(std::size_t lane) = 0;           // ... refused (NACKed, resent, NACKed again)
  virtual void worker_gone(std::size_t lane) = 0;       // ... its worker exited without answering
  virtual void worker_load(std::size_t lane, std::uint32_t open) = 0;  // connections open in its worker
  virtual void replacement_done(int slot, bool ok) = 0;
  virtual ipc::Route route_message() const = 0;         // the rule and slot count for `welcome`

 protected:
  ~SlotObserver() = default;
};

class Slot final : private SlotEffects {
 public:
  Slot(const SlotContext& context, SlotObserver& observer, int number, std::size_t lane,
       std::shared_ptr<const AppConfig> config);
  ~Slot();

  void start();
  // `hand_back`: a scale-down (the app goes on serving), not a shutdown; see SlotMachine::stop.
  void stop(std::chrono::milliseconds grace, bool hand_back = false);
  void kill_all();
  // A reload step: replace the worker with one started from `config`.
  SlotMachine::Replace replace(std::shared_ptr<const AppConfig> config);
  void set_config(std::shared_ptr<const AppConfig> config);  // used at the next start
  // Reads the current worker's memory (against max_rss) and CPU into its record.
  void sample_usage();

  // Hands a connection to the ready worker (the dispatcher's send); false when it cannot.
  bool send(Connection& connection);
  // The worker with handles in flight is broken (no ACK in time, NACKs): killed.
  void misbehaved(KillReason reason, std::string detail);
  // Tells its SDK workers (those that said hello) the app's new rule and slot count.
  void send_route(const ipc::Route& route);
  void show_queued(std::size_t waiting);  // in its scoreboard record
  // Kernel dispatch: strangers in its app's SO_REUSEPORT group, and the pid of the first
  // (0: unknown), in its scoreboard record (status reads them there).
  // The app's output cache's counters, in the slot's record (status, top).
  void show_cache(const cache::Counters& counters);
  // HTTP.SYS mode with `cache:`: flushes the kernel cache of the slot's queue under `url`
  // (`supervisor cache purge`); the slot's queue's prefix, if it has a queue now.
  platform::HttpSysQueue::Flush flush_httpsys_cache(const std::string& url, std::string& error);
  const std::string* httpsys_prefix() const;
  void show_strangers(std::size_t strangers, std::int64_t pid);
  // Kernel dispatch: the slot's own listening socket (one of its listener's SO_REUSEPORT
  // group), kept for the slot's lifetime so that its queue outlives its workers; each new
  // worker gets it once (after `welcome`, or at spawn for a plain worker).
  void set_kernel_queue(UvHandle<uv_tcp_t> socket) { kernel_queue_ = std::move(socket); }
  bool has_kernel_queue() const { return static_cast<bool>(kernel_queue_); }
  const uv_tcp_t* kernel_queue() const { return kernel_queue_.get(); }
  // A scale-down takes it back: the master drains what waits there itself.
  UvHandle<uv_tcp_t> take_kernel_queue() { return std::move(kernel_queue_); }
  // Sends `metrics` to its accepting worker if that one offers metrics; false otherwise.
  bool ask_metrics(std::uint64_t id);

  int number() const { return number_; }
  // The pid of its ready worker, if it has one.
  std::optional<std::int64_t> pid() const;
  // Why its last new worker failed to start ("start_failure (exit 1)"), for a roll's report.
  const std::string& last_failure() const { return last_failure_; }
  std::size_t lane() const { return lane_; }
  SlotState state() const { return machine_.state(); }
  bool accepting() const { return machine_.accepting().has_value(); }
  // What the dispatcher goes by. turns_away: the slot has never had a ready worker and
  // its start failed (SlotMachine::failing_to_start): connections must not wait here.
  LaneState lane_state() const;
  // Restarts and replacements of this slot's workers, by reason (for /metrics).
  const std::map<RestartReason, std::uint64_t>& restart_counts() const { return restarts_.counts(); }

 private:
  // One process of this slot and its channel's events, tagged with its generation.
  struct Process final : WorkerProcess::Observer {
    Slot& slot;
    int generation;
    std::unique_ptr<WorkerProcess> worker;
    std::shared_ptr<const AppConfig> config;  // what it was started with (its `welcome` says so)
    bool ready_on_spawn = false;  // `ready: on_spawn`: report ready once spawn returned
    bool welcomed = false;  // said hello (an SDK worker): it takes our messages, not only handles
    bool metrics = false;   // its hello offered the app's own metrics
    int window = 1;         // handles it takes before it answers (its hello's, capped by the platform)
    std::optional<ipc::Drain> drain_after_ack;  // a drain deferred until the ACK of the handle in flight
    std::optional<std::uint64_t> oom_kills_at_spawn;
    std::string address_in_use;  // the first line of its output that said EADDRINUSE
    // The fills it was sent and has not answered (`cache_put`/`cache_pass`), oldest first:
    // if it dies, what waits for them goes on at once instead of at lock_timeout.
    std::vector<ipc::CachePass> open_fills;
    Process(Slot& s, int g) : slot(s), generation(g) {}
    void on_message(const ipc::Message& message) override { slot.on_message(*this, message); }
    void on_channel_lost() override { slot.on_channel_lost(*this); }
    void on_protocol_violation(const std::string& reason) override { slot.on_protocol_violation(*this, reason); }
    void on_handback(UvHandle<uv_tcp_t> socket, const ipc::Handback& message) override {
      slot.on_handback(std::move(socket), message);
    }
    void on_handle_taken() override { slot.on_handle_taken(*this); }
    void on_handle_refused() override { slot.on_handle_refused(*this); }
    void on_exit(std::int64_t status, int signal) override { slot.on_exit(*this, status, signal); }
    void on_output(std::string_view line) override {
      if (address_in_use.empty() && mentions_address_in_use(line)) address_in_use = line;
    }
  };

  // SlotEffects
  bool spawn(int generation, bool replacement, std::string& error) override;
  void drain(int generation, std::chrono::milliseconds grace, bool hand_back) override;
  void kill(int generation) override;
  void event(const SlotEvent& event) override;
  void replacement_done(bool ok) override;
  double random() override;
  WorkerFacts facts(int generation) override;

  void on_message(Process& p, const ipc::Message& message);
  void on_channel_lost(Process& p);
  void on_protocol_violation(Process& p, const std::string& reason);
  void on_handback(UvHandle<uv_tcp_t> socket, const ipc::Handback& message);
  void on_handle_taken(Process& p);
  void on_handle_refused(Process& p);
  void on_exit(Process& p, std::int64_t status, int signal);
  // Its `cache_put`/`cache_pass` for host+target: that fill is no longer open.
  void answered_fill(Process& p, std::string_view host, std::string_view target);
  static constexpr std::size_t kMaxOpenFills = 1024;

  // After every event: deferred readies, changes reported, timer.
  void settle();
  void send_drain(Process& p, const ipc::Drain& drain);
  void arm_timer();
  Process* process(int generation);
  std::string name() const;
  // The slot's HTTP.SYS queue for `config` (apps on an `httpsys` listener), created on
  // first use and kept across worker restarts; false and a reason when it cannot be.
  bool prepare_httpsys(const AppConfig& config, std::string& error);
  std::optional<ipc::HttpSys> httpsys_for(Process& p);
  std::optional<ipc::CacheOffer> cache_offer(const AppConfig& app) const;
  // Sends the slot's listening socket to `p` (kernel dispatch), once.
  void give_kernel_queue(Process& p);
  // The scoreboard record of this slot, if the master has a scoreboard (and room).
  scoreboard::Record* record() const;
  void show_worker(int generation);  // the record now describes this generation
  void publish_rate(TimePoint now);

  const SlotContext& context_;
  SlotObserver& observer_;
  const int number_;
  const std::size_t lane_;
  std::shared_ptr<const AppConfig> config_;
  std::shared_ptr<const AppConfig> pending_config_;  // of a replacement being started
  SlotMachine machine_;
  std::map<int, std::unique_ptr<Process>> processes_;
  std::vector<std::unique_ptr<Process>> exited_;  // kept until their output is relayed
  // The worker generation connections are in flight to, until it has answered for all of
  // them (its channel counts them) or exits. One generation at a time: a new worker gets
  // connections once the old one has answered for all it was sent.
  std::optional<int> in_flight_generation_;
  std::optional<int> was_accepting_;
  SlotState was_state_ = SlotState::stopped;
  bool was_turning_away_ = false;
  Timer timer_;
  std::mt19937_64 random_{std::random_device{}()};
  std::optional<std::uint32_t> record_;
  RestartReasons restarts_;
  std::unique_ptr<platform::HttpSysQueue> httpsys_;
  UvHandle<uv_tcp_t> kernel_queue_;
  std::optional<int> listen_in_flight_;  // the generation its listening socket is on its way to
  std::uint64_t rate_requests_ = 0;  // requests and time at the last rate sample
  TimePoint rate_at_{};
  CpuRate cpu_rate_;
  std::string last_failure_;
};

}  // namespace handoff
