#include "supervisor/core/worker_env.h"

#include <limits>
#include <map>
#include <string_view>

namespace handoff {
namespace {

bool is_ours(std::string_view name) {
  return name == "NODE_CHANNEL_FD" || name == "NODE_CHANNEL_SERIALIZATION_MODE" || name == "NODE_UNIQUE_ID" ||
         name.starts_with("HANDOFF_") || name == "NOTIFY_SOCKET" || name.starts_with("WATCHDOG_") ||
         name.starts_with("LISTEN_");
}

}  // namespace

std::vector<std::string> worker_environment(const Environment& inherited, const SlotIdentity& id,
                                            const std::optional<ScoreboardRef>& scoreboard) {
  std::map<std::string, std::string> env;
  for (const auto& [name, value] : inherited)
    if (!is_ours(name)) env[name] = value;
  for (const auto& [name, value] : id.app.env) env[name] = value;
  env["NODE_CHANNEL_FD"] = "3";
  env["NODE_CHANNEL_SERIALIZATION_MODE"] = "json";
  env["HANDOFF_APP"] = id.app.name;
  env["HANDOFF_SLOT"] = std::to_string(id.slot);
  env["HANDOFF_WORKERS"] = std::to_string(id.app.workers);
  env["HANDOFF_GENERATION"] = std::to_string(id.generation);
  if (scoreboard) {
    env["HANDOFF_SCOREBOARD"] = scoreboard->segment;
    env["HANDOFF_SCOREBOARD_RECORD"] = std::to_string(scoreboard->record);
  }
  std::vector<std::string> out;
  out.reserve(env.size());
  for (const auto& [name, value] : env) out.push_back(name + "=" + value);
  return out;
}

std::vector<std::string> largest_worker_environment(const Environment& inherited, const AppConfig& app,
                                                    const std::string& scoreboard_segment) {
  return worker_environment(inherited, {app, app.workers, std::numeric_limits<int>::max()},
                            ScoreboardRef{scoreboard_segment, std::numeric_limits<std::uint32_t>::max()});
}

}  // namespace handoff
