// The whole life of one slot, as a pure state machine (after s6-supervise): events in,
// effects out through SlotEffects, time passed in by the caller. No loop, no processes,
// no clock of its own, so every policy below is unit-tested without spawning anything.
//
// A slot runs at most three kinds of worker at once, each named by its generation:
//   current   the worker connections go to (once it is ready);
//   next      its replacement while it starts (reload, recycling), current still serving;
//   draining  retired workers finishing their requests, killed at their deadline.
//
// Policy:
//   - a crash (any exit of `current` the slot did not ask for) restarts the slot after
//     min_delay · 2^(crashes in a row), with jitter, capped at max_delay; the count resets
//     once a worker has been up for stable_after;
//   - crash_loop_exits crashes within crash_loop_window: state crash_loop, retrying at
//     max_delay, never giving up;
//   - exit before ready, or no ready within start_timeout (then SIGKILL): a start failure;
//     one that never said `hello`, or whose output said EADDRINUSE, gets a `hint` built
//     from the facts the slot gathers (failure_hint.h), the first time before the kill;
//   - a slot that has never had a ready worker and failed to start takes no waiting: its
//     queue is answered 503 and so is every connection for it, until a worker is ready
//     (failing_to_start());
//   - an SDK worker silent for heartbeat_timeout is hung: SIGKILL, then a crash as above;
//   - a worker that broke the channel's protocol or did not acknowledge a connection
//     within ack_timeout (the slot tells: `misbehaved`): SIGKILL, then a crash as above;
//   - max_requests / max_rss / reload: `next` starts; when ready it becomes `current` and
//     the old one drains; if it fails, the old one keeps serving;
//   - stop: everything drains; the slot is stopped when the last worker is gone.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "protocols/slot_state.h"
#include "supervisor/core/config.h"
#include "supervisor/core/failure_hint.h"
#include "supervisor/core/slot_events.h"

namespace handoff {

using TimePoint = std::chrono::steady_clock::time_point;

class SlotEffects {
 public:
  // Starts a worker process for this generation (with the replacement's config when
  // `replacement`). False and a reason when it could not even be created.
  virtual bool spawn(int generation, bool replacement, std::string& error) = 0;
  // `drain` message (it has `grace` to finish), or SIGTERM without the SDK. `hand_back`:
  // the master can still route this slot's connections (a successor took over, or other
  // slots remain), so the worker may give its idle keep-alive sockets back instead of
  // closing them under their clients.
  virtual void drain(int generation, std::chrono::milliseconds grace, bool hand_back) = 0;
  virtual void kill(int generation) = 0;   // SIGKILL
  virtual void event(const SlotEvent& event) = 0;
  virtual void replacement_done(bool ok) = 0;  // for a rolling reload waiting on this slot
  virtual double random() = 0;                 // uniform in [0, 1): the jitter
  // What can be found out about a worker that failed (before a start_timeout kill, or at
  // its exit), for the hint in the log.
  virtual WorkerFacts facts(int generation) = 0;

 protected:
  ~SlotEffects() = default;
};

class SlotMachine {
 public:
  SlotMachine(LifecyclePolicy policy, SlotEffects& effects) : policy_(policy), effects_(effects) {}

  void set_policy(const LifecyclePolicy& policy) { policy_ = policy; }
  const LifecyclePolicy& policy() const { return policy_; }

  // ---- Events ----
  void start(TimePoint now);
  void hello(int generation);  // it runs the SDK: heartbeats are expected, drain understood
  void ready(int generation, TimePoint now);
  void heartbeat(int generation, std::uint64_t requests, TimePoint now);
  void rss(int generation, std::uint64_t bytes, TimePoint now);
  void exited(int generation, const ExitStatus& status, TimePoint now);
  void channel_lost(int generation, TimePoint now);
  // The worker broke the protocol or stopped taking connections: it is killed, whatever
  // its phase, for `reason` (protocol, ack_timeout) with `detail` beside it in the log.
  void misbehaved(int generation, KillReason reason, std::string detail = {});
  // Starts a replacement for a ready worker; replacement_done reports how it ended.
  // `not_ready`: nothing to replace (no ready worker, already replacing, stopping); the
  // next start of the slot uses the new config anyway. `failed`: the spawn failed.
  // `reason`: reload, max_requests or max_rss.
  enum class Replace { started, not_ready, failed };
  Replace replace(RestartReason reason, TimePoint now);
  // `hand_back`: the slot goes away while the app keeps serving (a scale-down), so its
  // workers may hand idle connections back; false when everything stops.
  void stop(TimePoint now, std::chrono::milliseconds grace, bool hand_back = false);
  void kill_all();
  void tick(TimePoint now);  // call at next_deadline()

  // ---- Queries ----
  SlotState state() const { return state_; }
  std::optional<TimePoint> next_deadline() const;
  // The generation to hand connections to, when there is a ready one.
  std::optional<int> accepting() const;
  bool speaks_sdk(int generation) const;
  bool idle() const { return !current_ && !next_ && draining_.empty(); }
  int generation() const { return generation_; }
  const std::string& last_exit() const { return last_exit_; }
  // The slot has never had a ready worker and its last start failed: the app does not
  // start as configured (no `hello`, EADDRINUSE, a crash at start), so connections for it
  // are answered 503 at once rather than after queue.timeout. Ends with the first ready.
  bool failing_to_start() const { return !ever_ready_ && start_failed_ && !stopping_; }
  int restarts() const { return restarts_; }

 private:
  enum class Phase { starting, ready, draining };
  struct Worker {
    int generation = 0;
    Phase phase = Phase::starting;
    TimePoint started{};
    TimePoint ready_at{};
    TimePoint last_heartbeat{};
    TimePoint deadline{};  // start timeout, or drain deadline
    std::uint64_t request_quota = 0;
    bool sdk = false;
    std::optional<Kill> kill;  // we sent SIGKILL, and why: do not send it again
    std::string hint;      // gathered before a start_timeout kill, while it still runs
  };

  Worker* find(int generation);
  const Worker* find(int generation) const { return const_cast<SlotMachine*>(this)->find(generation); }
  bool spawn_worker(std::optional<Worker>& slot, bool replacement, TimePoint now);
  void spawn_current(TimePoint now);
  void crashed(const Worker& worker, TimePoint now);
  void retire(Worker worker, TimePoint now, std::chrono::milliseconds grace, bool hand_back);
  void kill(Worker& worker, Kill why);
  // A start_failure's `hint` field: the one gathered before its kill, or one from now.
  std::string hint_for(const Worker& worker);
  void start_failure(const Worker& worker, const ExitStatus& status);
  void emit(const SlotEvent& event) { effects_.event(event); }
  std::optional<TimePoint> heartbeat_deadline(const Worker& worker) const;

  LifecyclePolicy policy_;
  SlotEffects& effects_;
  std::optional<Worker> current_;
  std::optional<Worker> next_;
  // A replacement that took over before it was ready (its predecessor died): whether it
  // becomes ready is still owed to replacement_done, which a rolling reload waits for.
  std::optional<int> promoted_;
  std::vector<Worker> draining_;
  std::optional<TimePoint> restart_at_;
  int generation_ = 0;
  int crashes_in_a_row_ = 0;
  std::vector<TimePoint> recent_crashes_;
  // The slot's state, set where it changes. crash_loop_ and stopping_ are not derived
  // from it: the first is the backoff policy's memory across restarts (a restarted
  // worker is `starting` still inside the loop), the second tells a stopped slot that
  // may start (before start()) from one that never will again.
  SlotState state_ = SlotState::stopped;
  bool crash_loop_ = false;
  bool stopping_ = false;
  bool ever_ready_ = false;
  bool start_failed_ = false;
  int restarts_ = 0;
  std::string last_exit_;
};

}  // namespace handoff
