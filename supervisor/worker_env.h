// The environment a worker starts with: the supervisor's own, minus variables that
// would confuse Node (a stale NODE_CHANNEL_FD, NODE_UNIQUE_ID which would make the
// worker a `cluster` child), plus the app's `env` and the channel and slot variables.
#pragma once

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

std::vector<std::string> worker_environment(const std::vector<std::pair<std::string, std::string>>& inherited,
                                            const SlotIdentity& identity);

}  // namespace handoff
