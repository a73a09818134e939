// The life of one slot as a pure state machine: events in, one action out. No clock, no
// processes: the caller performs the action (spawn, arm a timer, signal) and reports the
// next event. The walking skeleton's policy is small on purpose: restart after a fixed
// delay; backoff, crash loops, heartbeats and reloads extend this table.
//
//   stopped ──start──▶ starting ──ready──▶ ready
//      ▲                  │ exit              │ exit
//      │                  ▼                   ▼
//      └──(stop)──── waiting_restart ◀────────┘   (timer fires → starting)
//   any state ──stop──▶ stopping ──exit──▶ stopped
#pragma once

#include <chrono>
#include <string_view>

namespace handoff {

enum class SlotState { stopped, starting, ready, waiting_restart, stopping };
std::string_view to_string(SlotState state);

enum class SlotEvent {
  start,         // the supervisor wants this slot running
  spawn_failed,  // the process could not even be created
  ready,         // the worker said ready (or was spawned with ready: on_spawn)
  exited,        // the process is gone
  timer,         // the restart delay passed
  stop,          // shutting down
};

enum class SlotAction { none, spawn, arm_restart_timer, terminate, report_stopped };

struct SlotTransition {
  SlotState next;
  SlotAction action;
};

// The whole policy: where an event leads from a state, and what to do about it.
SlotTransition transition(SlotState state, SlotEvent event);

// Fixed delay before a crashed worker is started again.
inline constexpr std::chrono::milliseconds kRestartDelay{100};

}  // namespace handoff
