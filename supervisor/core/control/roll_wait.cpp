#include "supervisor/core/control/roll_wait.h"

namespace handoff::control {

void RollWait::add(RollReport report) {
  pending_.erase(report.app);
  reports_[report.app] = std::move(report);
}

bool RollWait::take(const RollReport& report) {
  if (!pending_.contains(report.app)) return false;
  add(report);
  return true;
}

Reply RollWait::reply() const {
  Reply r;
  r.ok = true;
  for (const auto& [app, report] : reports_) {
    if (failed(report)) r.ok = false;
    r.message += (r.message.empty() ? "" : "\n") + describe(report);
  }
  for (const auto& app : pending_) r.message += (r.message.empty() ? "" : "\n") + app + ": no answer";
  if (!pending_.empty()) r.ok = false;
  return r;
}

}  // namespace handoff::control
