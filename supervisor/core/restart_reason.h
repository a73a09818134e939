// Why a slot's worker was restarted or replaced: the `reason` label of
// handoff_slot_restarts_total. The one list of them, with their label names, so that a
// reader of the metrics can be shown every reason (at 0) before it first happens.
#pragma once

#include <array>
#include <string_view>

namespace handoff {

// In the order of their names, the order /metrics lists them in.
enum class RestartReason {
  crash,          // it ended without being asked to (or was killed because its channel closed)
  hung,           // no heartbeat within heartbeat.timeout, or no ACK within ack_timeout: killed
  max_requests,   // replaced: it served its request quota
  max_rss,        // replaced: its memory grew past max_rss
  protocol,       // it broke the channel's protocol: killed
  reload,         // replaced: a reload of the config
  start_failure,  // it ended before it said ready
  start_timeout,  // no ready within start_timeout: killed
};

inline constexpr std::array kRestartReasons{
    RestartReason::crash,    RestartReason::hung,   RestartReason::max_requests,  RestartReason::max_rss,
    RestartReason::protocol, RestartReason::reload, RestartReason::start_failure, RestartReason::start_timeout,
};

constexpr std::string_view to_string(RestartReason reason) {
  switch (reason) {
    case RestartReason::crash: return "crash";
    case RestartReason::hung: return "hung";
    case RestartReason::max_requests: return "max_requests";
    case RestartReason::max_rss: return "max_rss";
    case RestartReason::protocol: return "protocol";
    case RestartReason::reload: return "reload";
    case RestartReason::start_failure: return "start_failure";
    case RestartReason::start_timeout: return "start_timeout";
  }
  return "unknown";
}

}  // namespace handoff
