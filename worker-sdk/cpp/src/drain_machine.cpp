#include "worker-sdk/cpp/src/drain_machine.h"

#include <algorithm>

namespace handoff {

std::string_view to_string(DrainEffect::Kind kind) {
  switch (kind) {
    case DrainEffect::Kind::stop_accepting: return "stop_accepting";
    case DrainEffect::Kind::finish: return "finish";
    case DrainEffect::Kind::hand_back: return "hand_back";
    case DrainEffect::Kind::close: return "close";
    case DrainEffect::Kind::arm_timer: return "arm_timer";
    case DrainEffect::Kind::exit: return "exit";
    case DrainEffect::Kind::stopped: return "stopped";
  }
  return "?";
}

std::optional<std::int64_t> DrainMachine::deadline_ms(std::int64_t timeout_ms) const {
  if (timeout_ms <= 0) return own_grace_ms_;
  const std::int64_t margin = std::min(rules_.deadline_margin_ms, timeout_ms / rules_.deadline_margin_divisor);
  return std::max<std::int64_t>(1, timeout_ms - margin);
}

DrainEffects DrainMachine::drain(std::int64_t now, std::int64_t timeout_ms, bool handback) {
  DrainEffects out;
  if (phase_ == Phase::serving) start(now, deadline_ms(timeout_ms), handback, out);
  return done(std::move(out));
}

DrainEffects DrainMachine::signal(std::int64_t now) {
  DrainEffects out;
  if (phase_ == Phase::stopped) return out;
  if (++signals_ >= 2) {
    phase_ = Phase::stopped;
    connections_.clear();
    quiet_.clear();
    out.push_back({.kind = DrainEffect::Kind::exit});
    return out;
  }
  if (phase_ == Phase::serving) start(now, own_grace_ms_, false, out);
  return done(std::move(out));
}

DrainEffects DrainMachine::channel_lost(std::int64_t now) {
  DrainEffects out;
  // Nothing can go back now. With `handback`, no idle connection waits (each went back at
  // once), so none needs to move onto the grace clock.
  handback_ = false;
  if (phase_ == Phase::serving) start(now, own_grace_ms_, false, out);
  return done(std::move(out));
}

DrainEffects DrainMachine::opened(std::int64_t, std::uint64_t id, bool movable) {
  DrainEffects out;
  if (phase_ == Phase::stopped) {
    out.push_back({.kind = DrainEffect::Kind::close, .id = id});
    return out;
  }
  connections_[id] = Conn{.activity = Activity::busy, .movable = movable};
  // Sent before the master's `drain` reached us: served all the same, with close.
  if (phase_ == Phase::draining) out.push_back({.kind = DrainEffect::Kind::finish, .id = id});
  return done(std::move(out));
}

DrainEffects DrainMachine::busy(std::int64_t, std::uint64_t id) {
  auto it = connections_.find(id);
  if (it == connections_.end() || it->second.activity != Activity::idle) return {};
  quiet_.erase({it->second.idle_since, id});
  it->second.activity = Activity::busy;
  return done({});
}

DrainEffects DrainMachine::idle(std::int64_t now, std::uint64_t id) {
  auto it = connections_.find(id);
  if (it == connections_.end() || it->second.activity != Activity::busy) return {};
  it->second.activity = Activity::idle;
  it->second.idle_since = now;
  DrainEffects out;
  if (phase_ == Phase::draining) settle_idle(id, it->second, out);
  return done(std::move(out));
}

DrainEffects DrainMachine::detached(std::int64_t, std::uint64_t id) {
  auto it = connections_.find(id);
  if (it == connections_.end() || it->second.activity == Activity::leaving) return {};
  quiet_.erase({it->second.idle_since, id});
  it->second.activity = Activity::detached;
  return done({});
}

DrainEffects DrainMachine::closed(std::int64_t, std::uint64_t id) {
  auto it = connections_.find(id);
  if (it == connections_.end()) return {};
  quiet_.erase({it->second.idle_since, id});
  connections_.erase(it);
  DrainEffects out;
  finish_if_done(out);
  return done(std::move(out));
}

DrainEffects DrainMachine::tick(std::int64_t now) {
  DrainEffects out;
  if (phase_ != Phase::draining) return out;
  if (deadline_ && now >= *deadline_) {
    phase_ = Phase::stopped;
    connections_.clear();
    quiet_.clear();
    out.push_back({.kind = DrainEffect::Kind::exit});
    return out;
  }
  close_quiet(now, out);
  return done(std::move(out));
}

std::optional<std::int64_t> DrainMachine::next_wakeup() const {
  if (phase_ != Phase::draining) return std::nullopt;
  std::optional<std::int64_t> next = deadline_;
  if (!quiet_.empty()) {
    const std::int64_t quiet_at = quiet_.begin()->first + rules_.idle_grace_ms;
    next = next ? std::min(*next, quiet_at) : quiet_at;
  }
  return next;
}

void DrainMachine::start(std::int64_t now, std::optional<std::int64_t> deadline_ms, bool handback,
                         DrainEffects& out) {
  phase_ = Phase::draining;
  handback_ = handback;
  if (deadline_ms) deadline_ = now + *deadline_ms;
  out.push_back({.kind = DrainEffect::Kind::stop_accepting});
  for (auto& [id, conn] : connections_) {
    if (conn.activity == Activity::busy) {
      out.push_back({.kind = DrainEffect::Kind::finish, .id = id});
    } else if (conn.activity == Activity::idle) {
      // Kept, a request that still comes within the grace is answered with close.
      if (!(handback_ && conn.movable)) out.push_back({.kind = DrainEffect::Kind::finish, .id = id});
      settle_idle(id, conn, out);
    }
  }
  finish_if_done(out);
}

void DrainMachine::settle_idle(std::uint64_t id, Conn& conn, DrainEffects& out) {
  if (handback_ && conn.movable) {
    out.push_back({.kind = DrainEffect::Kind::hand_back, .id = id});
    leave(id, conn);
    return;
  }
  quiet_.insert({conn.idle_since, id});
}

void DrainMachine::leave(std::uint64_t id, Conn& conn) {
  quiet_.erase({conn.idle_since, id});
  conn.activity = Activity::leaving;  // counts until closed()
}

void DrainMachine::close_quiet(std::int64_t now, DrainEffects& out) {
  while (!quiet_.empty() && quiet_.begin()->first + rules_.idle_grace_ms <= now) {
    const std::uint64_t id = quiet_.begin()->second;
    out.push_back({.kind = DrainEffect::Kind::close, .id = id});
    leave(id, connections_.at(id));
  }
}

void DrainMachine::finish_if_done(DrainEffects& out) {
  if (phase_ != Phase::draining || !connections_.empty()) return;
  phase_ = Phase::stopped;
  out.push_back({.kind = DrainEffect::Kind::stopped});
}

DrainEffects DrainMachine::done(DrainEffects out) {
  const auto next = next_wakeup();
  if (next && next != armed_) out.push_back({.kind = DrainEffect::Kind::arm_timer, .at = *next});
  armed_ = next;
  return out;
}

}  // namespace handoff
