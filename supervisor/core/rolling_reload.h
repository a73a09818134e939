// A rolling reload: an app's slots get new workers one at a time, each started only once
// the one before it is ready, so the app never has fewer ready workers than a slot's
// worth below normal. A replacement that fails aborts the roll: the old workers keep
// serving (as nginx keeps its old workers when the new ones cannot start). Pure: the app
// asks the slots to replace their workers (Effects) and reports what became of each.
#pragma once

#include <cstddef>

#include "supervisor/core/slot_machine.h"

namespace handoff {

class RollingReload {
 public:
  struct Effects {
    // Slots now (a scale during the roll changes it).
    virtual std::size_t slots() const = 0;
    // Start replacing slot `index`'s worker (SlotMachine::replace).
    virtual SlotMachine::Replace replace(std::size_t index) = 0;
    virtual void done() = 0;                       // every slot has its new worker
    virtual void aborted(std::size_t index) = 0;  // its replacement did not become ready

   protected:
    ~Effects() = default;
  };

  explicit RollingReload(Effects& effects) : effects_(effects) {}

  // From the first slot; a roll under way starts over (the newest config wins).
  void start();
  // Slot `index` finished a replacement: ready (`ok`) or not. Replacements the roll did
  // not start (a recycling for max_requests or max_rss) are ignored.
  void replaced(std::size_t index, bool ok);
  void stop() { rolling_ = false; }
  bool rolling() const { return rolling_; }

 private:
  void step();

  Effects& effects_;
  std::size_t next_ = 0;  // the slot replaced next, or being replaced
  bool rolling_ = false;
};

}  // namespace handoff
