// The state of a slot: what its SlotMachine (supervisor/core/slot_machine.h) is in, and what
// the scoreboard shows for it (scoreboard.h stores it as a number, so the values are part
// of the segment's layout: append, never renumber). One enum for both, so that the
// supervisor never maps one to the other by hand.
#pragma once

#include <cstdint>
#include <string_view>

namespace handoff {

enum class SlotState : std::uint32_t {
  free = 0,  // a scoreboard record no slot uses; never a SlotMachine's state
  stopped,
  starting,
  ready,
  backoff,
  crash_loop,
  stopping,
};
inline constexpr SlotState kLastSlotState = SlotState::stopping;

constexpr std::string_view to_string(SlotState state) {
  switch (state) {
    case SlotState::free: return "free";
    case SlotState::stopped: return "stopped";
    case SlotState::starting: return "starting";
    case SlotState::ready: return "ready";
    case SlotState::backoff: return "backoff";
    case SlotState::crash_loop: return "crash_loop";
    case SlotState::stopping: return "stopping";
  }
  return "unknown";
}

}  // namespace handoff
