// What a SlotMachine reports as it goes (SlotEffects::event): one type per lifecycle
// event, so that the consumers (the log, the scoreboard, the restart counters) act on
// types and fields instead of parsing text back. The text form of each event, its log
// line, is made in one place: text_of.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "supervisor/core/log_record.h"
#include "supervisor/core/restart_reason.h"

namespace handoff {

struct ExitStatus {
  std::int64_t code = 0;
  int signal = 0;
  bool out_of_memory = false;  // the kernel's OOM killer sent the signal
};
// "exit code 1", "killed by signal 9", "killed: out of memory"
std::string describe(const ExitStatus& exit);

// Why the slot sent SIGKILL.
enum class KillReason {
  start_timeout,      // no ready within start_timeout
  heartbeat_timeout,  // an SDK worker silent for heartbeat.timeout: hung
  ack_timeout,        // a handle not acknowledged within ack_timeout: hung
  protocol,           // it broke the channel's protocol (the detail says how)
  channel_closed,     // its channel closed while it runs
  drain_timeout,      // a retired worker still running at its drain deadline
  stop_now,           // an immediate stop of the supervisor
};

struct Kill {
  KillReason reason = KillReason::stop_now;
  std::string detail;  // free text beside the reason, shown in the log (a protocol breach)
};
// The kill's text in the log: "hung: no ACK within ack_timeout", "protocol: <detail>".
std::string describe(const Kill& kill);
// The restart a kill causes, counted under its reason; none for a lost channel (the
// exit that follows counts as a crash) and for planned kills (they restart nothing).
std::optional<RestartReason> restart_reason(KillReason reason);

namespace slot_event {

struct Spawned {  // the slot's spawn effect reports it: only it knows the command
  int generation = 0;
  std::string command;
};
struct SpawnFailed {
  int generation = 0;
  std::string error;
};
struct Ready {
  int generation = 0;
  std::chrono::milliseconds startup{};
};
struct Replaced {  // the replacement of this generation took over
  int generation = 0;
};
struct Recycling {  // a replacement for this generation starts
  int generation = 0;
  RestartReason reason = RestartReason::reload;  // reload, max_requests or max_rss
};
struct Draining {
  int generation = 0;
  std::chrono::milliseconds timeout{};
  bool hand_back = false;
};
struct Killed {
  int generation = 0;
  Kill kill;
};
struct Exited {  // a worker that had been ready, or one the slot retired, ended
  int generation = 0;
  ExitStatus status;
  bool planned = false;  // retired (drained or stopped): no restart
  std::chrono::milliseconds uptime{};  // since ready; unplanned exits only
  std::string hint;  // unplanned exits only: what its output says went wrong, if anything

  static Exited retired(int generation, ExitStatus status) { return {generation, status, true, {}, {}}; }
  static Exited unplanned(int generation, ExitStatus status, std::chrono::milliseconds uptime, std::string hint = {}) {
    return {generation, status, false, uptime, std::move(hint)};
  }
};
struct StartFailed {  // a worker ended before it said ready
  int generation = 0;
  ExitStatus status;
  std::optional<Kill> kill;  // when the slot killed it; else it exited by itself
  std::string hint;
};
struct CrashLoop {
  std::size_t exits = 0;
  std::chrono::milliseconds window{};
  std::string last_exit;
};
struct Backoff {
  std::chrono::milliseconds delay{};
  int crashes_in_a_row = 0;
  bool crash_loop = false;
};
struct Restarting {  // the backoff is over: this generation is about to be spawned
  int generation = 0;
};
struct Stopped {};

}  // namespace slot_event

using SlotEvent = std::variant<slot_event::Spawned, slot_event::SpawnFailed, slot_event::Ready, slot_event::Replaced,
                               slot_event::Recycling, slot_event::Draining, slot_event::Killed, slot_event::Exited,
                               slot_event::StartFailed, slot_event::CrashLoop, slot_event::Backoff,
                               slot_event::Restarting, slot_event::Stopped>;

// An event as a log line: its name, the worker generation it is about (the log puts the
// pid before it), and its other fields in order. Tests wait for these lines: names and
// fields are part of the interface.
struct EventText {
  std::string_view name;
  std::optional<int> generation;
  LogFields fields;
};
EventText text_of(const SlotEvent& event);

}  // namespace handoff
