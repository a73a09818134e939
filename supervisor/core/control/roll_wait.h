// An operator's command waiting for the rolls it started (`supervisor reload`,
// `restart APP`): collects each app's RollReport and, once none is pending, the one
// reply the control connection gets. Pure: the master feeds it the rolls' ends.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "supervisor/core/control/control_protocol.h"
#include "supervisor/core/roll_report.h"

namespace handoff::control {

class RollWait {
 public:
  // An app whose roll is under way: its end is waited for.
  void expect(const std::string& app) { pending_.insert(app); }
  // An app's outcome known now (unchanged, added, removed, or a roll that ended at once).
  void add(RollReport report);
  // A roll ended somewhere: true when this wait was waiting for it (and took it).
  bool take(const RollReport& report);
  bool complete() const { return pending_.empty(); }
  const std::set<std::string>& pending() const { return pending_; }
  // One line per app, by name; ok unless some roll failed (failed(RollReport)).
  Reply reply() const;

 private:
  std::set<std::string> pending_;
  std::map<std::string, RollReport> reports_;
};

}  // namespace handoff::control
