// One worker position of an app at run time: drives its SlotMachine with real processes
// and a timer, and holds the queue of connections routed to it. Connections wait here
// while the slot has no ready worker, so a restarted worker takes its clients back
// (affinity to the slot, not to a pid).
#pragma once

#include <uv.h>

#include <map>
#include <memory>
#include <random>
#include <vector>

#include "uvglue/uv_handle.h"

#include "protocols/scoreboard.h"
#include "supervisor/edge/connection.h"
#include "supervisor/core/observe/restart_reasons.h"
#include "supervisor/platform/httpsys.h"
#include "supervisor/core/handoff_queue.h"
#include "supervisor/core/slot_machine.h"
#include "supervisor/edge/worker_process.h"

namespace handoff {

class App;

class Slot final : private SlotEffects {
 public:
  Slot(App& app, int number, std::shared_ptr<const AppConfig> config);
  ~Slot();

  void start();
  // `hand_back`: a scale-down (the app goes on serving), not a shutdown; see SlotMachine::stop.
  void stop(std::chrono::milliseconds grace, bool hand_back = false);
  void kill_all();
  // A reload step: replace the worker with one started from `config`.
  SlotMachine::Replace replace(std::shared_ptr<const AppConfig> config);
  void set_config(std::shared_ptr<const AppConfig> config);  // used at the next start
  void sample_rss();

  void enqueue(ConnectionPtr connection);
  // Tells its SDK workers (those that said hello) the app's new rule and slot count.
  void send_route(const ipc::Route& route);
  std::vector<ConnectionPtr> take_waiting() { return queue_.take_waiting(); }

  int number() const { return number_; }
  SlotState state() const { return machine_.state(); }
  bool accepting() const { return machine_.accepting().has_value(); }
  // Connections must not wait here: the slot has never had a ready worker and its start
  // failed (SlotMachine::failing_to_start). They get 503 at once.
  bool turns_away() const { return machine_.failing_to_start(); }
  std::size_t queued() const { return queue_.size(); }
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
    std::optional<ipc::Drain> drain_after_ack;  // a drain deferred until the ACK of the handle in flight
    std::optional<std::uint64_t> oom_kills_at_spawn;
    std::string address_in_use;  // the first line of its output that said EADDRINUSE
    Process(Slot& s, int g) : slot(s), generation(g) {}
    void on_message(const ipc::Message& message) override { slot.on_message(*this, message); }
    void on_channel_lost() override { slot.on_channel_lost(*this); }
    void on_protocol_violation(const std::string& reason) override { slot.on_protocol_violation(*this, reason); }
    void on_handback(UvHandle<uv_tcp_t> socket, const ipc::Handback& message) override {
      slot.on_handback(std::move(socket), message);
    }
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
  void on_exit(Process& p, std::int64_t status, int signal);

  // After every event: deferred readies, dispatch changes, sending, queue timeouts, timer.
  void settle();
  void pump();
  void send_drain(Process& p, const ipc::Drain& drain);
  void expire_waiting(TimePoint now);
  void flush_waiting();  // while turns_away(): what waits gets another slot or 503
  void check_ack(TimePoint now);  // the handle in flight against ack_timeout
  void arm_timer();
  Process* process(int generation);
  std::string name() const;
  // The slot's HTTP.SYS queue for `config` (apps on an `httpsys` listener), created on
  // first use and kept across worker restarts; false and a reason when it cannot be.
  bool prepare_httpsys(const AppConfig& config, std::string& error);
  std::optional<ipc::HttpSys> httpsys_for(Process& p);
  // The scoreboard record of this slot, if the master has a scoreboard (and room).
  scoreboard::Record* record() const;
  void show_worker(int generation);  // the record now describes this generation
  void publish_queue();
  void publish_rate(TimePoint now);

  App& app_;
  const int number_;
  std::shared_ptr<const AppConfig> config_;
  std::shared_ptr<const AppConfig> pending_config_;  // of a replacement being started
  SlotMachine machine_;
  std::map<int, std::unique_ptr<Process>> processes_;
  std::vector<std::unique_ptr<Process>> exited_;  // kept until their output is relayed
  HandoffQueue<ConnectionPtr> queue_;
  int in_flight_generation_ = 0;
  std::optional<TimePoint> ack_deadline_;  // of the handle in flight, until its ACK
  std::optional<int> was_accepting_;
  SlotState was_state_ = SlotState::stopped;
  UvHandle<uv_timer_t> timer_;
  std::mt19937_64 random_{std::random_device{}()};
  bool settling_ = false;
  std::optional<std::uint32_t> record_;
  RestartReasons restarts_;
  std::unique_ptr<platform::HttpSysQueue> httpsys_;
  std::uint64_t rate_requests_ = 0;  // requests and time at the last rate sample
  TimePoint rate_at_{};
};

}  // namespace handoff
