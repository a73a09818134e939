#include <doctest/doctest.h>

#include "supervisor/lifecycle.h"

using namespace handoff;

TEST_CASE("a slot starts, becomes ready, crashes and is restarted after the delay") {
  auto t = transition(SlotState::stopped, SlotEvent::start);
  CHECK(t.next == SlotState::starting);
  CHECK(t.action == SlotAction::spawn);
  t = transition(t.next, SlotEvent::ready);
  CHECK(t.next == SlotState::ready);
  t = transition(t.next, SlotEvent::exited);
  CHECK(t.next == SlotState::waiting_restart);
  CHECK(t.action == SlotAction::arm_restart_timer);
  t = transition(t.next, SlotEvent::timer);
  CHECK(t.next == SlotState::starting);
  CHECK(t.action == SlotAction::spawn);
}

TEST_CASE("a worker that dies before ready, or cannot be spawned, is retried too") {
  CHECK(transition(SlotState::starting, SlotEvent::exited).action == SlotAction::arm_restart_timer);
  CHECK(transition(SlotState::starting, SlotEvent::spawn_failed).action == SlotAction::arm_restart_timer);
}

TEST_CASE("stop terminates a running worker and reports stopped once it exits") {
  auto t = transition(SlotState::ready, SlotEvent::stop);
  CHECK(t.next == SlotState::stopping);
  CHECK(t.action == SlotAction::terminate);
  CHECK(transition(SlotState::stopping, SlotEvent::exited).action == SlotAction::report_stopped);
  // a slot waiting for its restart has no process: it is stopped at once
  CHECK(transition(SlotState::waiting_restart, SlotEvent::stop).action == SlotAction::report_stopped);
  // a restart timer that fires during shutdown starts nothing
  CHECK(transition(SlotState::stopping, SlotEvent::timer).action == SlotAction::none);
}

TEST_CASE("events that do not apply change nothing") {
  CHECK(transition(SlotState::ready, SlotEvent::ready).action == SlotAction::none);
  CHECK(transition(SlotState::ready, SlotEvent::timer).next == SlotState::ready);
}
