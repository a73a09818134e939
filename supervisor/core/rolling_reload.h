// A rolling reload: an app's slots get new workers one at a time, each started only once
// the one before it is ready, so the app never has fewer ready workers than a slot's
// worth below normal. A replacement that fails aborts the roll: the old workers keep
// serving (as nginx keeps its old workers when the new ones cannot start). Pure: the app
// asks the slots to replace their workers (Effects) and reports what became of each;
// the roll keeps the record (RollReport) its end is reported with.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "supervisor/core/roll_report.h"
#include "supervisor/core/slot_machine.h"

namespace handoff {

class RollingReload {
 public:
  struct Effects {
    // Slots now (a scale during the roll changes it).
    virtual std::size_t slots() const = 0;
    // Start replacing slot `index`'s worker (SlotMachine::replace).
    virtual SlotMachine::Replace replace(std::size_t index) = 0;
    // The pid of slot `index`'s ready worker, if it has one.
    virtual std::optional<std::int64_t> pid(std::size_t index) const = 0;
    // Why slot `index`'s replacement failed ("start_failure: exit 1"), for the report.
    virtual std::string failure(std::size_t index) const = 0;
    // The roll is over: rolled, aborted, superseded or stopped.
    virtual void finished(const RollReport& report) = 0;

   protected:
    ~Effects() = default;
  };

  RollingReload(Effects& effects, std::string app) : effects_(effects) { report_.app = std::move(app); }

  // From the first slot; a roll under way is reported superseded and starts over (the
  // newest config wins).
  void start();
  // Slot `index` finished a replacement: ready (`ok`) or not. Replacements the roll did
  // not start (a recycling for max_requests or max_rss) are ignored.
  void replaced(std::size_t index, bool ok);
  // The app stops: a roll under way is reported stopped.
  void stop();
  // A scale changed the slots: a roll waiting on a slot that is gone now goes on (or ends).
  void slots_changed();
  bool rolling() const { return rolling_; }
  // The roll so far (outcome `unfinished` while it rolls), or how the last one ended.
  RollReport report() const;

 private:
  void step();
  void finish(RollReport::Outcome outcome, std::string reason = {});

  Effects& effects_;
  std::size_t next_ = 0;  // the slot replaced next, or being replaced
  bool rolling_ = false;
  RollReport report_;
};

}  // namespace handoff
