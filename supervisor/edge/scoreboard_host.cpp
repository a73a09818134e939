#include "supervisor/edge/scoreboard_host.h"

#include "protocols/unix_time.h"
#include "supervisor/platform/service.h"

namespace handoff {

std::unique_ptr<ScoreboardHost> ScoreboardHost::create(const std::string& name, bool& replaced, std::string& error) {
  replaced = false;
  const auto now_ms = unix_ms();
  for (int attempt = 0; attempt < 2; ++attempt) {
    std::string why;
    auto segment = scoreboard::Segment::create(name, scoreboard::kCapacity, platform::current_pid(), now_ms, why);
    if (segment) return std::unique_ptr<ScoreboardHost>(new ScoreboardHost(std::move(segment)));
    // It exists. A master that is alive keeps it; anything else is stale.
    std::string unused;
    if (auto existing = scoreboard::Segment::open(name, false, unused)) {
      const auto pid = existing->header()->master_pid.load();
      if (pid != platform::current_pid() && platform::process_alive(pid)) {
        error = "the scoreboard " + name + " belongs to a running supervisor (pid " + std::to_string(pid) +
                ") with the same control socket";
        return nullptr;
      }
    }
    if (std::string stuck; !scoreboard::Segment::remove(name, stuck)) {
      error = "cannot create the scoreboard " + name + ": " + why + "; " + stuck;
      return nullptr;
    }
    replaced = true;
  }
  error = "cannot create the scoreboard " + name;
  return nullptr;
}

ScoreboardHost::~ScoreboardHost() {
  const std::string name = segment_->name();
  segment_.reset();
  std::string unused;  // on Windows: gone with the last handle, or kept by a worker still exiting
  scoreboard::Segment::remove(name, unused);
}

bool ScoreboardHost::grant(const platform::Ids& ids, std::string& error) {
  return platform::give_shared_memory(segment_->native_handle(), ids, error);
}

}  // namespace handoff
