// Counts a slot's restarts by reason, from the events its SlotMachine emits: a
// `Recycling` names its reason (reload, max_rss, max_requests); a `Backoff` follows an
// unplanned end, whose reason is the kill that caused it (hung, protocol, start_timeout)
// or else how it ended (crash, start_failure). Pure; fed by Slot::event.
#pragma once

#include <cstdint>
#include <map>
#include <optional>

#include "supervisor/core/restart_reason.h"
#include "supervisor/core/slot_events.h"

namespace handoff {

class RestartReasons {
 public:
  void on_event(const SlotEvent& event);
  const std::map<RestartReason, std::uint64_t>& counts() const { return counts_; }

 private:
  std::optional<RestartReason> pending_;  // why the worker that is being restarted ended
  std::map<RestartReason, std::uint64_t> counts_;
};

}  // namespace handoff
