// The environment a worker starts with: the supervisor's own, minus variables that
// would confuse Node (a stale NODE_CHANNEL_FD, NODE_UNIQUE_ID which would make the
// worker a `cluster` child) or belong to the supervisor's service manager (NOTIFY_SOCKET,
// WATCHDOG_*, LISTEN_*), plus the app's `env` and the channel and slot variables.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "supervisor/core/config.h"

namespace handoff {

struct SlotIdentity {
  const AppConfig& app;
  int slot;  // 1-based
  int generation;
};

// The scoreboard record a C++ SDK worker may write itself (HANDOFF_SCOREBOARD,
// HANDOFF_SCOREBOARD_RECORD).
struct ScoreboardRef {
  std::string segment;
  std::uint32_t record = 0;
};

// The supervisor's own environment (HostFacts::environment), which workers inherit (less
// the variables above).
using Environment = std::vector<std::pair<std::string, std::string>>;

std::vector<std::string> worker_environment(const Environment& inherited, const SlotIdentity& identity,
                                            const std::optional<ScoreboardRef>& scoreboard = std::nullopt);

// The largest environment a worker of `app` can get: the last slot, a generation and a
// scoreboard record at their widest, the scoreboard named. What fits the OS's limits for it
// fits for every worker the app will start.
std::vector<std::string> largest_worker_environment(const Environment& inherited, const AppConfig& app,
                                                    const std::string& scoreboard_segment);

}  // namespace handoff
