#include "supervisor/core/slot_events.h"

#include "protocols/overloaded.h"
#include "protocols/slot_state.h"
#include "supervisor/core/config_values.h"

namespace handoff {

std::string describe(const ExitStatus& exit) {
  if (exit.out_of_memory) return "killed: out of memory";
  if (exit.signal) return "killed by signal " + std::to_string(exit.signal);
  return "exit code " + std::to_string(exit.code);
}

std::string describe(const Kill& kill) {
  std::string text;
  switch (kill.reason) {
    case KillReason::start_timeout: text = "no ready within start_timeout"; break;
    case KillReason::heartbeat_timeout: text = "hung: no heartbeat within heartbeat.timeout"; break;
    case KillReason::ack_timeout: text = "hung: no ACK within ack_timeout"; break;
    case KillReason::protocol: text = "protocol"; break;
    case KillReason::channel_closed: text = "channel closed"; break;
    case KillReason::drain_timeout: text = "drain timeout"; break;
    case KillReason::stop_now: text = "stop now"; break;
  }
  if (!kill.detail.empty()) text += ": " + kill.detail;
  return text;
}

std::optional<RestartReason> restart_reason(KillReason reason) {
  switch (reason) {
    case KillReason::start_timeout: return RestartReason::start_timeout;
    case KillReason::heartbeat_timeout:
    case KillReason::ack_timeout: return RestartReason::hung;
    case KillReason::protocol: return RestartReason::protocol;
    case KillReason::channel_closed:
    case KillReason::drain_timeout:
    case KillReason::stop_now: return std::nullopt;
  }
  return std::nullopt;
}

EventText text_of(const SlotEvent& event) {
  using namespace slot_event;
  auto ms = [](std::chrono::milliseconds d) { return static_cast<long long>(d.count()); };
  return std::visit(
      overloaded{
          [](const Spawned& e) -> EventText { return {"spawn", e.generation, {{"command", e.command}}}; },
          [](const SpawnFailed& e) -> EventText { return {"spawn_failed", e.generation, {{"error", e.error}}}; },
          [&](const Ready& e) -> EventText { return {"ready", e.generation, {{"startup_ms", ms(e.startup)}}}; },
          [](const Replaced& e) -> EventText { return {"replaced", e.generation, {}}; },
          [](const Recycling& e) -> EventText {
            return {"recycle", e.generation, {{"reason", std::string(to_string(e.reason))}}};
          },
          [](const Draining& e) -> EventText {
            return {"drain", e.generation,
                    {{"timeout", format_duration(e.timeout)}, {"handback", e.hand_back}}};
          },
          [](const Killed& e) -> EventText { return {"kill", e.generation, {{"reason", describe(e.kill)}}}; },
          [&](const Exited& e) -> EventText {
            EventText t{"exit", e.generation, {{"status", describe(e.status)}}};
            if (e.planned) {
              t.fields.emplace_back("planned", true);
              return t;
            }
            t.fields.emplace_back("uptime_ms", ms(e.uptime));
            if (!e.hint.empty()) t.fields.emplace_back("hint", e.hint);
            return t;
          },
          [](const StartFailed& e) -> EventText {
            EventText t{"start_failure",
                        e.generation,
                        {{"status", describe(e.status)}, {"reason", e.kill ? describe(*e.kill) : "exited before ready"}}};
            if (!e.hint.empty()) t.fields.emplace_back("hint", e.hint);
            return t;
          },
          [](const CrashLoop& e) -> EventText {
            return {"crash_loop",
                    std::nullopt,
                    {{"exits", e.exits}, {"window", format_duration(e.window)}, {"last_exit", e.last_exit}}};
          },
          [&](const Backoff& e) -> EventText {
            const SlotState state = e.crash_loop ? SlotState::crash_loop : SlotState::backoff;
            return {"backoff",
                    std::nullopt,
                    {{"delay_ms", ms(e.delay)},
                     {"crashes_in_a_row", e.crashes_in_a_row},
                     {"state", std::string(to_string(state))}}};
          },
          [](const Restarting& e) -> EventText { return {"restart", e.generation, {}}; },
          [](const Stopped&) -> EventText { return {"stopped", std::nullopt, {}}; },
      },
      event);
}

}  // namespace handoff
