#include "supervisor/lifecycle.h"

namespace handoff {

std::string_view to_string(SlotState state) {
  switch (state) {
    case SlotState::stopped: return "stopped";
    case SlotState::starting: return "starting";
    case SlotState::ready: return "ready";
    case SlotState::waiting_restart: return "waiting_restart";
    case SlotState::stopping: return "stopping";
  }
  return "?";
}

SlotTransition transition(SlotState state, SlotEvent event) {
  using S = SlotState;
  using E = SlotEvent;
  using A = SlotAction;
  if (event == E::stop) {
    if (state == S::starting || state == S::ready) return {S::stopping, A::terminate};
    if (state == S::stopping) return {S::stopping, A::none};
    return {S::stopped, A::report_stopped};
  }
  switch (state) {
    case S::stopped:
      if (event == E::start) return {S::starting, A::spawn};
      break;
    case S::starting:
      if (event == E::ready) return {S::ready, A::none};
      if (event == E::exited || event == E::spawn_failed) return {S::waiting_restart, A::arm_restart_timer};
      break;
    case S::ready:
      if (event == E::exited) return {S::waiting_restart, A::arm_restart_timer};
      break;
    case S::waiting_restart:
      if (event == E::timer) return {S::starting, A::spawn};
      break;
    case S::stopping:
      if (event == E::exited || event == E::spawn_failed) return {S::stopped, A::report_stopped};
      break;
  }
  return {state, A::none};  // events that do not apply in a state change nothing
}

}  // namespace handoff
