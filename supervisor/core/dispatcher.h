// Where a connection of an app goes, decided in one place and without I/O: the routing
// rule (and its missing_key) names a slot, on_unavailable says what happens when that slot
// has no ready worker, each slot's queue is bounded by queue.max and queue.timeout, one
// handle per slot is in flight until its ACK, or as many as its worker's window
// (HandoffQueue), and the rule for whether
// waiting connections may move to another slot lives here once (may_move()).
//
// Events come in (dispatch, slot_state, ack, refused, worker_gone, tick, scaling, settings);
// effects go out through DispatchEffects (send, reject, handed_off, misbehaved, and the
// log events). Effects never call back into the dispatcher. T is whatever the caller
// uses for a connection: a socket owner in the supervisor, an int in the unit tests.
//
// Slots are addressed by lane: a lane is a slot's place in the dispatcher for its whole
// life, kept when a scale-down takes the slot out of the routing order (its handle in
// flight may still be acknowledged) until the caller forgets it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "protocols/ipc_messages.h"
#include "supervisor/core/config.h"
#include "supervisor/core/route_facts.h"
#include "supervisor/core/handoff_queue.h"
#include "supervisor/core/routing/dispatch_policy.h"
#include "supervisor/core/routing/rehash.h"
#include "supervisor/core/slot_machine.h"

namespace handoff {

// The app config's settings the dispatcher applies (a reload changes them at once).
struct DispatchSettings {
  Unavailable on_unavailable;
  std::size_t queue_max;
  Milliseconds queue_timeout;
  Milliseconds ack_timeout;

  static DispatchSettings of(const AppConfig& app) {
    return {app.on_unavailable, app.queue.max, app.queue.timeout, app.lifecycle.ack_timeout};
  }
};

// A slot as its lifecycle reports it (SlotMachine).
struct LaneState {
  bool ready = false;       // a worker takes connections (accepting())
  bool turns_away = false;  // never ready and its start failed (failing_to_start())
  bool stopping = false;    // the slot is stopping: nothing moves on its account
  std::size_t window = 1;   // handles its ready worker takes before it answers (its hello's)
};

template <class T>
class DispatchEffects {
 public:
  // Hands `connection` to the lane's ready worker; false when it cannot go now (it stays
  // first in line). `connection` stays the dispatcher's until ack().
  virtual bool send(std::size_t lane, T& connection) = 0;
  // Answers `status` (503, 404, a plugin's) and closes.
  virtual void reject(T connection, int status) = 0;
  // The lane's worker acknowledged it; the dispatcher lets the caller's copy go right
  // after. `queue_wait` is how long it waited in the lane's queue before it was sent (0
  // when the worker was free).
  virtual void handed_off(std::size_t lane, const T& connection, TimePoint::duration queue_wait) = 0;
  // The lane's worker with the handle in flight is broken (no ACK in time, NACKs).
  virtual void misbehaved(std::size_t lane, KillReason reason, std::string detail) = 0;
  // The oldest waiting connection waited queue.timeout (it is rejected with 503).
  virtual void queue_timeout(std::size_t lane) = 0;
  // A lane that turns away flushed what waited there (moved or rejected).
  virtual void queue_flushed(std::size_t lane, std::size_t connections) = 0;
  // How many connections wait in the lane now (reported when it changed).
  virtual void queue_length(std::size_t lane, std::size_t waiting) = 0;

 protected:
  ~DispatchEffects() = default;
};

template <class T>
class Dispatcher {
 public:
  Dispatcher(DispatchEffects<T>& effects, DispatchSettings settings) : effects_(effects), settings_(settings) {}

  // The rule (start, a reload that changed it) and its registry entry's affinity.
  void set_rule(std::unique_ptr<DispatchPolicy> policy, bool affinity) {
    policy_ = std::move(policy);
    affinity_ = affinity;
    reads_load_ = policy_ && policy_->reads_load();
  }
  void set_settings(DispatchSettings settings) { settings_ = settings; }
  bool affinity() const { return affinity_; }

  // Whether connections waiting for a slot without a ready worker may go to another slot:
  // always without affinity; with it, only when on_unavailable is not `queue`.
  bool may_move() const { return !affinity_ || settings_.on_unavailable != Unavailable::queue; }

  // ---- Slots ----

  // A new slot at the end of the routing order (start, scale-up): its lane.
  std::size_t add_slot() {
    lanes_.emplace_back();
    order_.push_back(lanes_.size() - 1);
    views_stale_ = true;
    return lanes_.size() - 1;
  }

  // A scale-down: the last slot leaves the routing order and what waits in it is
  // dispatched again over the slots that stay. Its lane keeps the handle in flight.
  void retire_last(TimePoint now) {
    if (order_.empty()) return;
    const std::size_t retired = order_.back();
    order_.pop_back();
    views_stale_ = true;
    lanes_[retired].retired = true;
    auto orphans = lanes_[retired].queue.take_waiting();
    report(retired);
    redispatch(std::move(orphans), now);
  }

  // A retired slot is freed: anything still in its lane goes with it.
  void forget(std::size_t lane) {
    lanes_[lane] = Lane{};
    lanes_[lane].retired = true;
    views_stale_ = true;
  }

  // The slot stops (shutdown, scale-down, app removed): nobody will serve what waits.
  void stop_slot(std::size_t lane) {
    for (auto& item : lanes_[lane].queue.take_waiting()) effects_.reject(std::move(item.connection), 503);
    report(lane);
  }
  // The app stops: new connections are answered 503.
  void stop() { stopping_ = true; }

  // The slot's lifecycle changed. Without a ready worker, connections that may move go
  // elsewhere; once any slot is ready, those waiting on slots without one get another
  // chance; a slot that turns away flushes its queue.
  void slot_state(std::size_t lane, LaneState state, TimePoint now) {
    Lane& l = lanes_[lane];
    const bool lost = l.state.ready && !state.ready;
    const bool changed = l.state.ready != state.ready || l.state.turns_away != state.turns_away ||
                         l.state.stopping != state.stopping;  // (a new window only lets pump() send more)
    l.state = state;
    views_stale_ = true;
    if (changed) {
      if (lost && may_move() && !stopping_ && !state.stopping && l.queue.waiting() > 0)
        redispatch(l.queue.take_waiting(), now);
      move_waiting(now);
    }
    if (l.state.turns_away && l.queue.waiting() > 0) flush(lane, now);
    pump(lane, now);
  }

  // What the lane's worker reports open (its `stats`, or the scoreboard): part of the load.
  void worker_load(std::size_t lane, std::uint32_t open) { lanes_[lane].open = open; }

  // ---- Connections ----

  // A connection for this app (accepted and classified, or handed back and classified
  // again): `input` is what the rule reads now, `facts` what it will read if the
  // connection is routed again (null for rules that read nothing of it: reads_connection).
  // `waiting_since`: when it began to wait, if before now (a connection the master took from
  // a slot's kernel queue waited there first): queue.timeout counts from then.
  void dispatch(T&& connection, const RouteInput& input, std::unique_ptr<const RouteFacts>&& facts, TimePoint now,
                std::optional<TimePoint> waiting_since = std::nullopt) {
    if (stopping_ || order_.empty() || !policy_) return effects_.reject(std::move(connection), 503);
    refresh_views();
    route(Item{std::move(connection), std::move(facts), earliest(now, waiting_since)}, policy_->pick(input, views_), now);
  }
  // The same, routed from its facts alone (a connection routed again).
  void dispatch(T&& connection, std::unique_ptr<const RouteFacts>&& facts, TimePoint now,
                std::optional<TimePoint> waiting_since = std::nullopt) {
    if (stopping_ || order_.empty() || !policy_) return effects_.reject(std::move(connection), 503);
    refresh_views();
    const Decision decision = facts ? facts->with_input([&](const RouteInput& in) { return policy_->pick(in, views_); })
                                    : policy_->pick(RouteInput{}, views_);
    route(Item{std::move(connection), std::move(facts), earliest(now, waiting_since)}, decision, now);
  }

  // The lane's worker acknowledged its oldest handle in flight; the next one may go. Its
  // ACK deadline moves to the next one in flight, counted from when that one went.
  void ack(std::size_t lane, TimePoint now) {
    Lane& l = lanes_[lane];
    if (Item* item = l.queue.in_flight()) {
      effects_.handed_off(lane, item->connection, item->sent_at - item->queued_at);
      l.queue.ack();  // the connection goes with it
    }
    l.ack_deadline.reset();
    if (const Item* next = l.queue.in_flight()) {
      l.ack_deadline = next->sent_at + settings_.ack_timeout;
      note_deadline(*l.ack_deadline);
    }
    if (l.queue.waiting() > 0 || l.reported != 0) pump(lane, now);  // (nothing to send or report otherwise)
  }

  // The lane's worker refused its handle in flight: its channel resent it on each NACK,
  // ipc::kMaxHandleResends times (ipc::ChannelEnd), and it was NACKed again. A worker that
  // refuses the same socket again and again is broken; the connection waits at the head of
  // the queue for its replacement.
  void refused(std::size_t lane) {
    if (lanes_[lane].queue.in_flight())
      effects_.misbehaved(lane, KillReason::protocol,
                          "refused a connection " + std::to_string(ipc::kMaxHandleResends + 1) + " times in a row (NACK)");
  }

  // The worker that had handles in flight is gone without answering: they go back to the
  // head of the lane's queue, for whoever serves the slot next. Nothing is lost.
  void worker_gone(std::size_t lane, TimePoint now) {
    Lane& l = lanes_[lane];
    l.queue.requeue_in_flight();
    l.ack_deadline.reset();
    if (const Item* head = l.queue.oldest_waiting()) note_deadline(head->queued_at + settings_.queue_timeout);
    pump(lane, now);
  }

  // Timeouts: queue.timeout for waiting connections, ack_timeout for handles in flight.
  void tick(TimePoint now) {
    for (std::size_t lane = 0; lane < lanes_.size(); ++lane) {
      Lane& l = lanes_[lane];
      while (Item* oldest = l.queue.oldest_waiting()) {
        if (now - oldest->queued_at < settings_.queue_timeout) break;
        auto expired = l.queue.pop_waiting();
        effects_.queue_timeout(lane);
        effects_.reject(std::move(expired->connection), 503);
      }
      report(lane);
      if (l.ack_deadline && now >= *l.ack_deadline && l.queue.in_flight()) {
        l.ack_deadline.reset();  // once: the kill's exit puts the connection back in the queue
        effects_.misbehaved(lane, KillReason::ack_timeout, {});
      }
    }
    earliest_ = next_deadline();
    earliest_moved_ = true;
  }

  // When tick() must run, if that moved earlier since the last call (the caller arms
  // its timer then). Kept up as deadlines are set, so the hand-off path scans nothing;
  // it may be early (an ACK cleared that deadline): tick() then finds nothing due.
  bool deadline_moved() const { return earliest_moved_; }
  std::optional<TimePoint> take_deadline() {
    if (!earliest_moved_) return std::nullopt;
    earliest_moved_ = false;
    return earliest_;
  }

  // When tick() has something to do next, if anything waits or is in flight.
  std::optional<TimePoint> next_deadline() const {
    std::optional<TimePoint> when;
    for (const Lane& l : lanes_) {
      if (l.ack_deadline && (!when || *l.ack_deadline < *when)) when = l.ack_deadline;
      if (const Item* oldest = l.queue.oldest_waiting()) {
        const TimePoint expiry = oldest->queued_at + settings_.queue_timeout;
        if (!when || expiry < *when) when = expiry;
      }
    }
    return when;
  }

  // ---- Queries ----
  std::size_t slots() const { return order_.size(); }
  std::size_t waiting(std::size_t lane) const { return lanes_[lane].queue.waiting(); }
  bool in_flight(std::size_t lane) const { return lanes_[lane].queue.in_flight() != nullptr; }
  std::size_t in_flight_count(std::size_t lane) const { return lanes_[lane].queue.in_flight_count(); }
  // What the rule sees, in routing order (ready, load); current as of the last dispatch.
  const std::vector<SlotView>& views() {
    views_stale_ = true;  // the load too, whatever the rule reads
    refresh_views();
    return views_;
  }

 private:
  struct Item {
    T connection;
    std::unique_ptr<const RouteFacts> facts;  // to route it again (null: the rule reads nothing of it)
    TimePoint queued_at;
    TimePoint sent_at{};  // its last send: sent_at - queued_at is its wait in the queue
  };
  using Queue = HandoffQueue<Item>;
  struct Lane {
    Queue queue;
    LaneState state;
    std::uint32_t open = 0;  // connections its worker reports open
    std::optional<TimePoint> ack_deadline;
    std::size_t reported = 0;  // the waiting count queue_length() last reported
    bool retired = false;
  };

  // Where the rule's decision sends it, with on_unavailable for a slot that is down.
  void route(Item&& item, const Decision& decision, TimePoint now) {
    if (decision.kind == Decision::Kind::reject) return effects_.reject(std::move(item.connection), decision.status);
    if (decision.kind == Decision::Kind::any) {
      // No slot is ready and the rule has no preference: wait in the queue of the first
      // slot that may still start a worker, until some slot comes up (move_waiting).
      if (settings_.on_unavailable == Unavailable::reject) return effects_.reject(std::move(item.connection), 503);
      for (const std::size_t lane : order_)
        if (!lanes_[lane].state.turns_away) return enqueue(lane, std::move(item), now);
      return effects_.reject(std::move(item.connection), 503);
    }
    std::size_t pick = decision.slot;
    if (!views_[pick].ready) {
      switch (settings_.on_unavailable) {
        case Unavailable::queue: break;
        case Unavailable::rehash:
          if (auto other = rehash(pick)) pick = *other;
          break;
        case Unavailable::reject: return effects_.reject(std::move(item.connection), 503);
      }
    }
    enqueue(order_[pick], std::move(item), now);
  }

  void enqueue(std::size_t lane, Item&& item, TimePoint now) {
    Lane& l = lanes_[lane];
    if (l.state.turns_away || l.queue.waiting() >= settings_.queue_max)
      return effects_.reject(std::move(item.connection), 503);
    // Items are made with the time they began to wait (dispatch(), never later than now).
    note_deadline(item.queued_at + settings_.queue_timeout);
    l.queue.push(std::move(item));
    pump(lane, now);
  }

  // Sends waiting connections while the lane's worker has room in its window, and
  // reports its queue. The ACK deadline is the oldest handle's in flight.
  void pump(std::size_t lane, TimePoint now) {
    Lane& l = lanes_[lane];
    if (l.state.ready)
      while (Item* next = l.queue.begin_send(l.state.window)) {
        if (!effects_.send(lane, next->connection)) {
          l.queue.cancel_send();
          break;
        }
        next->sent_at = now;
        if (!l.ack_deadline) {
          l.ack_deadline = now + settings_.ack_timeout;
          note_deadline(*l.ack_deadline);
        }
      }
    report(lane);
  }

  void report(std::size_t lane) {
    Lane& l = lanes_[lane];
    if (const std::size_t waiting = l.queue.waiting(); waiting != l.reported) {
      l.reported = waiting;
      effects_.queue_length(lane, waiting);
    }
  }

  void note_deadline(TimePoint t) {
    if (earliest_ && *earliest_ <= t) return;
    earliest_ = t;
    earliest_moved_ = true;
  }

  void redispatch(std::vector<Item> items, TimePoint now) {
    for (auto& item : items) dispatch(std::move(item.connection), std::move(item.facts), now);
  }

  // Once any slot is ready, what waits on slots without one goes where the rule says now.
  void move_waiting(TimePoint now) {
    if (!may_move() || stopping_) return;
    bool any_ready = false;
    for (const std::size_t lane : order_) any_ready = any_ready || lanes_[lane].state.ready;
    if (!any_ready) return;
    for (std::size_t i = 0; i < order_.size(); ++i) {
      Lane& l = lanes_[order_[i]];
      if (l.state.ready || l.queue.waiting() == 0) continue;
      auto waiting = l.queue.take_waiting();
      report(order_[i]);
      redispatch(std::move(waiting), now);
    }
  }

  // Never ready and its start failed: without affinity another slot, still starting, may
  // take what waits; with it they belong here, and waiting queue.timeout for a slot that
  // does not start only delays the 503.
  void flush(std::size_t lane, TimePoint now) {
    auto waiting = lanes_[lane].queue.take_waiting();
    report(lane);
    effects_.queue_flushed(lane, waiting.size());
    if (!affinity_) return redispatch(std::move(waiting), now);
    for (auto& item : waiting) effects_.reject(std::move(item.connection), 503);
  }

  static TimePoint earliest(TimePoint now, std::optional<TimePoint> since) { return since && *since < now ? *since : now; }

  // Another ready slot for a connection whose own slot is down (routing/rehash.h).
  std::optional<std::size_t> rehash(std::size_t home) const {
    return rehash_target(home, views_.size(), [&](std::size_t i) { return views_[i].ready; });
  }

  // Before each pick. The slots' `ready` changes only with their state and the routing
  // order (which mark the views stale); their load with every connection, so it is
  // counted each time only for a rule that reads it (the hand-off path skips the loop).
  void refresh_views() {
    if (!views_stale_ && !reads_load_) return;
    views_stale_ = false;
    views_.resize(order_.size());
    for (std::size_t i = 0; i < order_.size(); ++i) {
      const Lane& l = lanes_[order_[i]];
      views_[i].ready = l.state.ready;
      views_[i].load = static_cast<std::uint32_t>(l.queue.size()) + l.open;
    }
  }

  DispatchEffects<T>& effects_;
  DispatchSettings settings_;
  std::unique_ptr<DispatchPolicy> policy_;
  bool affinity_ = false;
  bool reads_load_ = true;
  bool views_stale_ = true;
  bool stopping_ = false;
  std::vector<Lane> lanes_;
  std::vector<std::size_t> order_;  // the lanes of the routing order: slot 1, 2, ...
  std::vector<SlotView> views_;
  std::optional<TimePoint> earliest_;  // no later than any deadline tick() has
  bool earliest_moved_ = false;
};

}  // namespace handoff
