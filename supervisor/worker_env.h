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

#include "supervisor/config.h"

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

std::vector<std::string> worker_environment(const std::vector<std::pair<std::string, std::string>>& inherited,
                                            const SlotIdentity& identity,
                                            const std::optional<ScoreboardRef>& scoreboard = std::nullopt);

}  // namespace handoff
