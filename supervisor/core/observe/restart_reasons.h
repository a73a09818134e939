// Counts a slot's restarts by reason, from the lifecycle events its SlotMachine emits:
// a `recycle` names its reason (reload, max_rss, max_requests); a `backoff` follows an
// unplanned end, whose reason is the kill that caused it (hung, start_timeout) or else
// how it ended (crash, start_failure). Pure; fed by Slot::event.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace handoff {

class RestartReasons {
 public:
  void on_event(std::string_view name, const std::vector<std::pair<std::string_view, std::string>>& fields);
  const std::map<std::string, std::uint64_t>& counts() const { return counts_; }

 private:
  std::string pending_;  // why the worker that is being restarted ended
  std::map<std::string, std::uint64_t> counts_;
};

}  // namespace handoff
