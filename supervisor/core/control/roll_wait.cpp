#include "supervisor/core/control/roll_wait.h"

namespace handoff::control {

std::string scale_key(const std::string& app) { return app + " (scale)"; }

void RollWait::add(const std::string& key, bool ok, std::string line) {
  pending_.erase(key);
  outcomes_[key] = {ok, std::move(line)};
}

bool RollWait::take(const std::string& key, bool ok, std::string line) {
  if (!pending_.contains(key)) return false;
  add(key, ok, std::move(line));
  return true;
}

Reply RollWait::reply() const {
  Reply r;
  r.ok = pending_.empty();
  for (const auto& [key, outcome] : outcomes_) {
    r.ok = r.ok && outcome.ok;
    r.message += (r.message.empty() ? "" : "\n") + outcome.line;
  }
  for (const auto& key : pending_) r.message += (r.message.empty() ? "" : "\n") + key + ": no answer";
  return r;
}

}  // namespace handoff::control
