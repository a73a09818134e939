// How a worker stops, as a pure state machine: events in, effects out, time passed in by
// the caller (milliseconds on any monotonic clock). No loop, no sockets, so every rule
// below is unit-tested, and tests/fixtures/drain-scenarios.json holds the cases that the
// Node SDK's drain (worker-sdk/node/drain.js) passes too.
//
//   serving -> draining -> stopped   (a graceful end: nothing left)
//   serving/draining -> stopped      (`exit`: the deadline, a second signal)
//
// Rules:
//   - a drain starts on the master's `drain`, the first SIGTERM/SIGINT or the channel's
//     loss; once started, a second start changes nothing (a signal during the master's
//     drain lets it go on); a second signal means "now";
//   - its deadline: the master's timeout_ms less a margin (min(100 ms, a tenth)), so that
//     the exit is ours rather than the master's SIGKILL; without one from the master (a
//     signal, the master gone) the program's own grace, no margin; none: no deadline;
//   - connections are served to the end: a busy one (inside a request, a response owed or
//     being written, or none served yet) finishes with `Connection: close`;
//   - an idle keep-alive connection (it has served a request and nothing is in progress)
//     goes back to the master at once when the drain says `handback` and the socket can
//     travel (not under TLS); otherwise it is closed once idle for the idle grace (100 ms:
//     closing it at the moment its client sends the next request would fail that request);
//   - a connection detached from HTTP (an upgrade, or going back by the route rule) is
//     never closed as idle; it ends by itself or at the deadline;
//   - a connection counts until its socket is gone from the process (closed, or handed
//     back and acknowledged); when none is left, the worker has stopped;
//   - the channel lost: nothing can go back any more, so idle connections close after the
//     grace as without `handback`.
#pragma once

#include "protocols/drain_rules.h"  // the drain's numbers (DrainRules): their one home

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string_view>
#include <utility>
#include <vector>

namespace handoff {

struct DrainEffect {
  enum class Kind {
    stop_accepting,  // close the listener (standalone); nothing new is asked for
    finish,          // connection `id`: serve what it has, each response with Connection: close
    hand_back,       // connection `id`: stop reading, give the socket back (empty head)
    close,           // connection `id`: close it (idle for the grace)
    arm_timer,       // call tick() at `at` (replaces any earlier time)
    exit,            // close everything now and stop (deadline, second signal)
    stopped,         // nothing is left: the drain is over
  };
  Kind kind;
  std::uint64_t id = 0;  // finish, hand_back, close
  std::int64_t at = 0;   // arm_timer
  bool operator==(const DrainEffect&) const = default;
};
std::string_view to_string(DrainEffect::Kind kind);

using DrainEffects = std::vector<DrainEffect>;

class DrainMachine {
 public:
  enum class Phase { serving, draining, stopped };

  // `own_grace_ms`: how long a drain the master did not time may run (nullopt: unbounded).
  explicit DrainMachine(std::optional<std::int64_t> own_grace_ms, DrainRules rules = {})
      : own_grace_ms_(own_grace_ms), rules_(rules) {}

  // ---- Events: each returns what the caller must do, in order ----
  // The master's `drain` (timeout_ms <= 0: none given).
  DrainEffects drain(std::int64_t now, std::int64_t timeout_ms, bool handback);
  DrainEffects signal(std::int64_t now);        // SIGTERM, SIGINT
  DrainEffects channel_lost(std::int64_t now);  // the master is gone
  // A socket arrived. `movable`: it can be handed back (a plain socket under a channel).
  DrainEffects opened(std::int64_t now, std::uint64_t id, bool movable);
  DrainEffects busy(std::int64_t now, std::uint64_t id);  // a request began (or a response is owed)
  DrainEffects idle(std::int64_t now, std::uint64_t id);  // served, nothing in progress; repeats ignored
  DrainEffects detached(std::int64_t now, std::uint64_t id);  // no longer HTTP, or going back by route
  DrainEffects closed(std::int64_t now, std::uint64_t id);    // its socket is gone from the process
  DrainEffects tick(std::int64_t now);

  // ---- Queries ----
  Phase phase() const { return phase_; }
  bool draining() const { return phase_ == Phase::draining; }
  bool hands_back() const { return handback_; }
  std::optional<std::int64_t> next_wakeup() const;
  std::size_t connections() const { return connections_.size(); }
  // The deadline for a drain of `timeout_ms` from the master (<= 0: the own grace).
  std::optional<std::int64_t> deadline_ms(std::int64_t timeout_ms) const;
  const DrainRules& rules() const { return rules_; }
  // The master's numbers (welcome's `drain`); for a machine still serving.
  void set_rules(const DrainRules& rules) { rules_ = rules; }

 private:
  enum class Activity { busy, idle, detached, leaving };
  struct Conn {
    Activity activity = Activity::busy;  // a fresh connection is served: busy until its first response
    bool movable = false;
    std::int64_t idle_since = 0;
  };

  void start(std::int64_t now, std::optional<std::int64_t> deadline_ms, bool handback, DrainEffects& out);
  // An idle connection while draining: back to the master, or onto the grace clock.
  void settle_idle(std::uint64_t id, Conn& conn, DrainEffects& out);
  void leave(std::uint64_t id, Conn& conn);
  void close_quiet(std::int64_t now, DrainEffects& out);
  void finish_if_done(DrainEffects& out);
  // Appends arm_timer when the next wake-up moved.
  DrainEffects done(DrainEffects out);

  std::optional<std::int64_t> own_grace_ms_;
  DrainRules rules_;
  Phase phase_ = Phase::serving;
  bool handback_ = false;
  int signals_ = 0;
  std::optional<std::int64_t> deadline_;
  std::optional<std::int64_t> armed_;  // the wake-up last asked for
  std::map<std::uint64_t, Conn> connections_;  // ordered: effects come in id order
  std::set<std::pair<std::int64_t, std::uint64_t>> quiet_;  // (idle_since, id) on the grace clock
};

}  // namespace handoff
