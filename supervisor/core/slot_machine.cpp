#include "supervisor/core/slot_machine.h"

#include <algorithm>
#include <cmath>

#include "supervisor/core/config_values.h"

namespace handoff {

using std::chrono::duration_cast;
using std::chrono::milliseconds;

std::string_view to_string(SlotState state) {
  switch (state) {
    case SlotState::stopped: return "stopped";
    case SlotState::starting: return "starting";
    case SlotState::ready: return "ready";
    case SlotState::backoff: return "backoff";
    case SlotState::crash_loop: return "crash_loop";
    case SlotState::stopping: return "stopping";
  }
  return "?";
}

std::string describe(const ExitStatus& exit) {
  if (exit.out_of_memory) return "killed: out of memory";
  if (exit.signal) return "killed by signal " + std::to_string(exit.signal);
  return "exit code " + std::to_string(exit.code);
}

SlotState SlotMachine::state() const {
  if (stopping_) return idle() ? SlotState::stopped : SlotState::stopping;
  if (current_) return current_->phase == Phase::ready ? SlotState::ready : SlotState::starting;
  if (restart_at_) return crash_loop_ ? SlotState::crash_loop : SlotState::backoff;
  return SlotState::stopped;
}

std::optional<int> SlotMachine::accepting() const {
  if (current_ && current_->phase == Phase::ready) return current_->generation;
  return std::nullopt;
}

bool SlotMachine::speaks_sdk(int generation) const {
  const Worker* w = find(generation);
  return w && w->sdk;
}

SlotMachine::Worker* SlotMachine::find(int generation) {
  if (current_ && current_->generation == generation) return &*current_;
  if (next_ && next_->generation == generation) return &*next_;
  for (auto& w : draining_)
    if (w.generation == generation) return &w;
  return nullptr;
}

void SlotMachine::emit(std::string_view name, std::vector<std::pair<std::string_view, std::string>> fields) {
  effects_.event({name, std::move(fields)});
}

// ---- Starting -----------------------------------------------------------------------

bool SlotMachine::spawn_worker(std::optional<Worker>& slot, bool replacement, TimePoint now) {
  const int generation = ++generation_;
  std::string error;
  if (!effects_.spawn(generation, replacement, error)) {
    emit("spawn_failed", {{"generation", std::to_string(generation)}, {"error", error}});
    return false;
  }
  Worker w;
  w.generation = generation;
  w.started = now;
  w.deadline = now + policy_.start_timeout;
  // Jitter the quota so workers started together are not all recycled together.
  w.request_quota = policy_.max_requests == 0
                        ? 0
                        : policy_.max_requests + static_cast<std::uint64_t>(
                                                     effects_.random() * static_cast<double>(policy_.max_requests_jitter + 1));
  slot = w;
  return true;
}

void SlotMachine::spawn_current(TimePoint now) {
  if (spawn_worker(current_, false, now)) return;
  // Could not even create the process (e.g. the binary vanished): a crash like any other.
  last_exit_ = "spawn failed";
  start_failed_ = true;
  Worker never_started;
  never_started.generation = generation_;
  crashed(never_started, now);
}

void SlotMachine::start(TimePoint now) {
  if (stopping_ || current_ || restart_at_) return;
  spawn_current(now);
}

void SlotMachine::hello(int generation) {
  if (Worker* w = find(generation)) w->sdk = true;
}

void SlotMachine::ready(int generation, TimePoint now) {
  Worker* w = find(generation);
  if (!w || w->phase != Phase::starting) return;
  w->phase = Phase::ready;
  w->ready_at = now;
  ever_ready_ = true;
  w->last_heartbeat = now;
  emit("ready", {{"generation", std::to_string(generation)}, {"startup_ms", std::to_string(duration_cast<milliseconds>(now - w->started).count())}});
  if (next_ && next_->generation == generation) {
    // The replacement is ready: switch dispatch to it, then retire the old worker.
    std::optional<Worker> old = std::move(current_);
    current_ = std::move(next_);
    next_.reset();
    if (old) retire(std::move(*old), now, policy_.drain_timeout, /*hand_back=*/true);
    emit("replaced", {{"generation", std::to_string(generation)}});
    effects_.replacement_done(true);
  }
}

// ---- Running ------------------------------------------------------------------------

void SlotMachine::heartbeat(int generation, std::uint64_t requests, TimePoint now) {
  Worker* w = find(generation);
  if (!w) return;
  w->sdk = true;
  w->last_heartbeat = now;
  if (current_ && w == &*current_ && w->request_quota && requests >= w->request_quota && w->phase == Phase::ready)
    replace("max_requests", now);
}

void SlotMachine::rss(int generation, std::uint64_t bytes, TimePoint now) {
  if (!policy_.max_rss || bytes <= policy_.max_rss) return;
  if (current_ && current_->generation == generation && current_->phase == Phase::ready) replace("max_rss", now);
}

SlotMachine::Replace SlotMachine::replace(std::string_view reason, TimePoint now) {
  if (stopping_ || !current_ || current_->phase != Phase::ready || next_) return Replace::not_ready;
  emit("recycle", {{"generation", std::to_string(current_->generation)}, {"reason", std::string(reason)}});
  return spawn_worker(next_, true, now) ? Replace::started : Replace::failed;
}

void SlotMachine::retire(Worker worker, TimePoint now, milliseconds grace, bool hand_back) {
  worker.phase = Phase::draining;
  worker.deadline = now + grace;
  const int generation = worker.generation;
  // Among the draining first: the effect asks about it (speaks_sdk: a `drain` message, or
  // SIGTERM for a worker without the SDK).
  draining_.push_back(std::move(worker));
  effects_.drain(generation, grace, hand_back);
  // Logged once it is sent (or deferred behind a handle in flight): a reader of the log
  // acting on this line finds the drain on its way.
  emit("drain", {{"generation", std::to_string(generation)}, {"timeout", format_duration(grace)},
                 {"handback", hand_back ? "true" : "false"}});
}

void SlotMachine::kill(Worker& worker, std::string reason) {
  if (worker.killed) return;
  worker.killed = true;
  worker.kill_reason = reason;
  emit("kill", {{"generation", std::to_string(worker.generation)}, {"reason", std::move(reason)}});
  effects_.kill(worker.generation);
}

void SlotMachine::channel_lost(int generation, TimePoint) {
  // A worker without its channel can get no more connections; replace it.
  if (Worker* w = find(generation); w && w->phase != Phase::draining) kill(*w, "channel closed");
}

void SlotMachine::misbehaved(int generation, std::string reason) {
  if (Worker* w = find(generation)) kill(*w, std::move(reason));
}

// ---- Exits --------------------------------------------------------------------------

void SlotMachine::exited(int generation, const ExitStatus& status, TimePoint now) {
  const std::string how = describe(status);
  auto drained = std::find_if(draining_.begin(), draining_.end(), [&](const Worker& w) { return w.generation == generation; });
  if (drained != draining_.end()) {
    draining_.erase(drained);
    emit("exit", {{"generation", std::to_string(generation)}, {"status", how}, {"planned", "true"}});
    if (stopping_ && idle()) emit("stopped");
    return;
  }
  if (next_ && next_->generation == generation) {
    Worker failed = std::move(*next_);
    next_.reset();
    last_exit_ = how;
    start_failure(failed, how);
    effects_.replacement_done(false);
    return;
  }
  if (!current_ || current_->generation != generation) return;  // not ours (any more)
  Worker gone = std::move(*current_);
  current_.reset();
  last_exit_ = how;
  if (stopping_) {
    emit("exit", {{"generation", std::to_string(generation)}, {"status", how}, {"planned", "true"}});
    if (idle()) emit("stopped");
    return;
  }
  if (gone.phase == Phase::starting) {
    start_failed_ = true;
    start_failure(gone, how);
  } else {
    std::vector<std::pair<std::string_view, std::string>> fields{
        {"generation", std::to_string(generation)},
        {"status", how},
        {"uptime_ms", std::to_string(duration_cast<milliseconds>(now - gone.ready_at).count())}};
    // Once it has served, only its output can say something (a worker with
    // `ready: on_spawn` never says hello, and that is no fault).
    if (WorkerFacts facts = effects_.facts(generation); !facts.address_in_use.empty())
      fields.emplace_back("hint", failure_hint(gone.sdk, facts));
    emit("exit", std::move(fields));
  }
  if (next_) {
    // Its replacement was already starting: it takes over, no restart needed.
    current_ = std::move(next_);
    next_.reset();
    return;
  }
  crashed(gone, now);
}

// Start failures happen only to workers that are to say `ready` (`ready: sdk`; with
// `on_spawn` the slot reports them ready at once), so one that never said hello missed it.
std::string SlotMachine::hint_for(const Worker& worker) {
  if (!worker.hint.empty()) return worker.hint;
  return failure_hint(worker.sdk, effects_.facts(worker.generation));
}

void SlotMachine::start_failure(const Worker& worker, const std::string& how) {
  std::vector<std::pair<std::string_view, std::string>> fields{
      {"generation", std::to_string(worker.generation)},
      {"status", how},
      {"reason", worker.killed ? worker.kill_reason : "exited before ready"}};
  if (std::string hint = hint_for(worker); !hint.empty()) fields.emplace_back("hint", std::move(hint));
  emit("start_failure", std::move(fields));
}

void SlotMachine::crashed(const Worker& worker, TimePoint now) {
  if (worker.phase == Phase::ready && now - worker.ready_at >= policy_.stable_after) {
    crashes_in_a_row_ = 0;
    recent_crashes_.clear();
    crash_loop_ = false;
  }
  recent_crashes_.push_back(now);
  std::erase_if(recent_crashes_, [&](TimePoint t) { return now - t > policy_.crash_loop_window; });
  const bool was_crash_loop = crash_loop_;
  crash_loop_ = static_cast<int>(recent_crashes_.size()) >= policy_.crash_loop_exits;

  milliseconds delay = policy_.max_delay;
  if (!crash_loop_) {
    // Equal jitter: a random point in [base/2, base]. Doubling bases give disjoint
    // ranges, so delays never shrink while they grow, and cap at max_delay.
    const double base = static_cast<double>(policy_.min_delay.count()) * std::pow(2.0, std::min(crashes_in_a_row_, 40));
    const double jittered = base * (0.5 + 0.5 * effects_.random());
    delay = milliseconds(static_cast<std::int64_t>(std::min(jittered, static_cast<double>(policy_.max_delay.count()))));
  }
  ++crashes_in_a_row_;
  ++restarts_;
  restart_at_ = now + delay;
  if (crash_loop_ && !was_crash_loop)
    emit("crash_loop", {{"exits", std::to_string(recent_crashes_.size())},
                        {"window", format_duration(policy_.crash_loop_window)},
                        {"last_exit", last_exit_}});
  emit("backoff", {{"delay_ms", std::to_string(delay.count())}, {"crashes_in_a_row", std::to_string(crashes_in_a_row_)},
                   {"state", std::string(to_string(state()))}});
}

// ---- Stopping and time --------------------------------------------------------------

void SlotMachine::stop(TimePoint now, milliseconds grace, bool hand_back) {
  if (stopping_) return;
  stopping_ = true;
  restart_at_.reset();
  if (next_) {
    retire(std::move(*next_), now, grace, hand_back);
    next_.reset();
  }
  if (current_) {
    retire(std::move(*current_), now, grace, hand_back);
    current_.reset();
  }
  for (auto& w : draining_) w.deadline = std::min(w.deadline, now + grace);
  if (idle()) emit("stopped");
}

void SlotMachine::kill_all() {
  for (Worker* w : {current_ ? &*current_ : nullptr, next_ ? &*next_ : nullptr})
    if (w) kill(*w, "stop now");
  for (auto& w : draining_) kill(w, "stop now");
}

std::optional<TimePoint> SlotMachine::heartbeat_deadline(const Worker& w) const {
  if (!w.sdk || w.phase != Phase::ready || policy_.heartbeat_timeout.count() <= 0 || w.killed) return std::nullopt;
  return w.last_heartbeat + policy_.heartbeat_timeout;
}

void SlotMachine::tick(TimePoint now) {
  if (restart_at_ && now >= *restart_at_) {
    restart_at_.reset();
    emit("restart", {{"generation", std::to_string(generation_ + 1)}});
    spawn_current(now);
  }
  for (Worker* w : {current_ ? &*current_ : nullptr, next_ ? &*next_ : nullptr}) {
    if (!w) continue;
    if (w->phase == Phase::starting && now >= w->deadline && !w->killed) {
      // Asked now, while it runs: a port it listens on itself is the likeliest reason.
      if (!w->sdk) w->hint = failure_hint(false, effects_.facts(w->generation));
      kill(*w, "no ready within start_timeout");
    }
    if (auto hb = heartbeat_deadline(*w); hb && now >= *hb) kill(*w, "hung: no heartbeat within heartbeat.timeout");
  }
  for (auto& w : draining_)
    if (now >= w.deadline) kill(w, "drain timeout");
}

std::optional<TimePoint> SlotMachine::next_deadline() const {
  std::optional<TimePoint> soonest = restart_at_;
  auto consider = [&](std::optional<TimePoint> t) {
    if (t && (!soonest || *t < *soonest)) soonest = t;
  };
  for (const Worker* w : {current_ ? &*current_ : nullptr, next_ ? &*next_ : nullptr}) {
    if (!w) continue;
    if (w->phase == Phase::starting && !w->killed) consider(w->deadline);
    consider(heartbeat_deadline(*w));
  }
  for (const auto& w : draining_)
    if (!w.killed) consider(w.deadline);
  return soonest;
}

}  // namespace handoff
