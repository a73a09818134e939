#include "supervisor/core/slot_machine.h"

#include <algorithm>
#include <cmath>

#include "supervisor/core/config_values.h"

namespace handoff {

using std::chrono::duration_cast;
using std::chrono::milliseconds;
using namespace slot_event;

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

// ---- Starting -----------------------------------------------------------------------

bool SlotMachine::spawn_worker(std::optional<Worker>& slot, bool replacement, TimePoint now) {
  const int generation = ++generation_;
  std::string error;
  if (!effects_.spawn(generation, replacement, error)) {
    emit(SpawnFailed{generation, error});
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
  if (spawn_worker(current_, false, now)) {
    state_ = SlotState::starting;
    return;
  }
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
  if (current_ && current_->generation == generation) state_ = SlotState::ready;
  emit(Ready{generation, duration_cast<milliseconds>(now - w->started)});
  if (promoted_ == generation) {
    promoted_.reset();
    effects_.replacement_done(true);
  }
  if (next_ && next_->generation == generation) {
    // The replacement is ready: switch dispatch to it, then retire the old worker.
    std::optional<Worker> old = std::move(current_);
    current_ = std::move(next_);
    next_.reset();
    state_ = SlotState::ready;
    if (old) retire(std::move(*old), now, policy_.drain_timeout, /*hand_back=*/true);
    emit(Replaced{generation});
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
    replace(RestartReason::max_requests, now);
}

void SlotMachine::rss(int generation, std::uint64_t bytes, TimePoint now) {
  if (!policy_.max_rss || bytes <= policy_.max_rss) return;
  if (current_ && current_->generation == generation && current_->phase == Phase::ready) replace(RestartReason::max_rss, now);
}

SlotMachine::Replace SlotMachine::replace(RestartReason reason, TimePoint now) {
  if (stopping_ || !current_ || current_->phase != Phase::ready || next_) return Replace::not_ready;
  emit(Recycling{current_->generation, reason});
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
  emit(Draining{generation, grace, hand_back});
}

void SlotMachine::kill(Worker& worker, Kill why) {
  if (worker.kill) return;
  worker.kill = why;
  emit(Killed{worker.generation, std::move(why)});
  effects_.kill(worker.generation);
}

void SlotMachine::channel_lost(int generation, TimePoint) {
  // A worker without its channel can get no more connections; replace it.
  if (Worker* w = find(generation); w && w->phase != Phase::draining) kill(*w, {KillReason::channel_closed, {}});
}

void SlotMachine::misbehaved(int generation, KillReason reason, std::string detail) {
  if (Worker* w = find(generation)) kill(*w, {reason, std::move(detail)});
}

// ---- Exits --------------------------------------------------------------------------

void SlotMachine::exited(int generation, const ExitStatus& status, TimePoint now) {
  auto drained = std::find_if(draining_.begin(), draining_.end(), [&](const Worker& w) { return w.generation == generation; });
  if (drained != draining_.end()) {
    draining_.erase(drained);
    emit(Exited::retired(generation, status));
    if (stopping_ && idle()) {
      state_ = SlotState::stopped;
      emit(Stopped{});
    }
    return;
  }
  if (next_ && next_->generation == generation) {
    Worker failed = std::move(*next_);
    next_.reset();
    last_exit_ = describe(status);
    start_failure(failed, status);
    effects_.replacement_done(false);
    return;
  }
  if (!current_ || current_->generation != generation) return;  // not ours (any more)
  Worker gone = std::move(*current_);
  current_.reset();
  last_exit_ = describe(status);
  const bool owed = promoted_ == generation;  // a replacement that took over, and never was ready
  promoted_.reset();
  if (stopping_) {
    emit(Exited::retired(generation, status));
    if (idle()) {
      state_ = SlotState::stopped;
      emit(Stopped{});
    }
    return;
  }
  if (gone.phase == Phase::starting) {
    start_failed_ = true;
    start_failure(gone, status);
    if (owed) effects_.replacement_done(false);
  } else {
    auto exit = Exited::unplanned(generation, status, duration_cast<milliseconds>(now - gone.ready_at));
    // Once it has served, only its output can say something (a worker with
    // `ready: on_spawn` never says hello, and that is no fault).
    if (WorkerFacts facts = effects_.facts(generation); !facts.address_in_use.empty())
      exit.hint = failure_hint(gone.sdk, facts);
    emit(exit);
  }
  if (next_) {
    // Its replacement was already starting: it takes over, no restart needed.
    current_ = std::move(next_);
    next_.reset();
    state_ = current_->phase == Phase::ready ? SlotState::ready : SlotState::starting;
    if (current_->phase != Phase::ready) promoted_ = current_->generation;
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

void SlotMachine::start_failure(const Worker& worker, const ExitStatus& status) {
  emit(StartFailed{worker.generation, status, worker.kill, hint_for(worker)});
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
  state_ = crash_loop_ ? SlotState::crash_loop : SlotState::backoff;
  if (crash_loop_ && !was_crash_loop) emit(CrashLoop{recent_crashes_.size(), policy_.crash_loop_window, last_exit_});
  emit(Backoff{delay, crashes_in_a_row_, crash_loop_});
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
  state_ = idle() ? SlotState::stopped : SlotState::stopping;
  if (idle()) emit(Stopped{});
}

void SlotMachine::kill_all() {
  for (Worker* w : {current_ ? &*current_ : nullptr, next_ ? &*next_ : nullptr})
    if (w) kill(*w, {KillReason::stop_now, {}});
  for (auto& w : draining_) kill(w, {KillReason::stop_now, {}});
}

std::optional<TimePoint> SlotMachine::heartbeat_deadline(const Worker& w) const {
  if (!w.sdk || w.phase != Phase::ready || policy_.heartbeat_timeout.count() <= 0 || w.kill) return std::nullopt;
  return w.last_heartbeat + policy_.heartbeat_timeout;
}

void SlotMachine::tick(TimePoint now) {
  if (restart_at_ && now >= *restart_at_) {
    restart_at_.reset();
    emit(Restarting{generation_ + 1});
    spawn_current(now);
  }
  for (Worker* w : {current_ ? &*current_ : nullptr, next_ ? &*next_ : nullptr}) {
    if (!w) continue;
    if (w->phase == Phase::starting && now >= w->deadline && !w->kill) {
      // Asked now, while it runs: a port it listens on itself is the likeliest reason.
      if (!w->sdk) w->hint = failure_hint(false, effects_.facts(w->generation));
      kill(*w, {KillReason::start_timeout, {}});
    }
    if (auto hb = heartbeat_deadline(*w); hb && now >= *hb) kill(*w, {KillReason::heartbeat_timeout, {}});
  }
  for (auto& w : draining_)
    if (now >= w.deadline) kill(w, {KillReason::drain_timeout, {}});
}

std::optional<TimePoint> SlotMachine::next_deadline() const {
  std::optional<TimePoint> soonest = restart_at_;
  auto consider = [&](std::optional<TimePoint> t) {
    if (t && (!soonest || *t < *soonest)) soonest = t;
  };
  for (const Worker* w : {current_ ? &*current_ : nullptr, next_ ? &*next_ : nullptr}) {
    if (!w) continue;
    if (w->phase == Phase::starting && !w->kill) consider(w->deadline);
    consider(heartbeat_deadline(*w));
  }
  for (const auto& w : draining_)
    if (!w.kill) consider(w.deadline);
  return soonest;
}

}  // namespace handoff
