// What became of one app in a reload, a restart or a scale, as `supervisor reload`
// prints it: "hello: rolled 4/4 slots (pids 101->201, ...)", "api: unchanged",
// "hello: roll aborted at slot 2: ...". Pure: the rolling reload fills it, the control
// reply carries its text.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "supervisor/core/config.h"
#include "supervisor/core/slot_events.h"

namespace handoff {

// One slot's step in a roll.
struct SlotRoll {
  int slot = 0;                          // numbered from 1, as in the log
  std::optional<std::int64_t> old_pid;  // the worker replaced (none: the slot had no ready worker)
  std::optional<std::int64_t> new_pid;  // its successor, once ready
  bool replaced = false;                // false: skipped, it starts with the new config anyway
};

struct RollReport {
  enum class Outcome {
    unchanged,   // nothing to roll (`--config-only` and its workers' config is the same)
    rolled,      // every slot has a new worker
    aborted,     // a new worker did not become ready: the old ones keep serving
    superseded,  // a newer reload or restart started the roll over
    stopped,     // the app stopped (shutdown, or a reload removed it) during the roll
    unfinished,  // still rolling when the wait ended
    added,       // a new app in the config: its workers start
    removed,     // gone from the config: its workers drain
  };
  std::string app;
  Outcome outcome = Outcome::unchanged;
  std::size_t slots = 0;        // the app's slots when the roll ended
  std::vector<SlotRoll> steps;  // in order; the last is the one that aborted, if any
  std::string reason;           // aborted: why the new worker failed; unfinished: how long it was waited for

  static RollReport of(std::string app, Outcome outcome, std::size_t slots = 0) {
    RollReport r;
    r.app = std::move(app);
    r.outcome = outcome;
    r.slots = slots;
    return r;
  }
};

// A roll that did not get every slot a new worker (an operator's command fails with it).
bool failed(const RollReport& report);
// One line, "APP: ...", without '\n'.
std::string describe(const RollReport& report);
// How long a command waits at most for a roll of `slots` slots of `app`: each slot's new
// worker has start_timeout to become ready, one after the other, and the last old
// worker drain_timeout to finish.
std::chrono::milliseconds roll_wait_bound(const AppConfig& app, std::size_t slots);
// Why a new worker failed, from a slot's event (a start or spawn failure; nullopt for
// others): the `reason` of an aborted roll, e.g. "start_failure (exit 1)".
std::optional<std::string> roll_failure(const SlotEvent& event);

}  // namespace handoff
