// An operator's command waiting for what it started (`supervisor reload`, `restart APP`,
// `scale APP N`): collects each app's outcome (a roll's RollReport, a scale's
// ScaleWatch line) and, once none is pending, the one reply the control connection
// gets. Pure: the master feeds it the ends.
#pragma once

#include <map>
#include <set>
#include <string>

#include "supervisor/core/control/control_protocol.h"
#include "supervisor/core/roll_report.h"

namespace handoff::control {

// What a scale of `app` is waited for under (a roll of it is waited for under its name).
std::string scale_key(const std::string& app);

class RollWait {
 public:
  // Something under way whose end is waited for: a roll (the app's name) or a scale
  // (scale_key).
  void expect(const std::string& key) { pending_.insert(key); }
  // An outcome known now (unchanged, added, removed, a roll that ended at once, ...).
  void add(const RollReport& report) { add(report.app, !failed(report), describe(report)); }
  void add(const std::string& key, bool ok, std::string line);
  // Something ended: true when this wait was waiting for it (and took it).
  bool take(const RollReport& report) { return take(report.app, !failed(report), describe(report)); }
  bool take(const std::string& key, bool ok, std::string line);
  bool complete() const { return pending_.empty(); }
  const std::set<std::string>& pending() const { return pending_; }
  // One line per key, in key order; ok unless something failed.
  Reply reply() const;

 private:
  struct Outcome {
    bool ok = true;
    std::string line;
  };
  std::set<std::string> pending_;
  std::map<std::string, Outcome> outcomes_;
};

}  // namespace handoff::control
