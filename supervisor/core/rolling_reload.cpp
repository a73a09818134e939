#include "supervisor/core/rolling_reload.h"

namespace handoff {

void RollingReload::start() {
  rolling_ = true;
  next_ = 0;
  step();
}

void RollingReload::replaced(std::size_t index, bool ok) {
  if (!rolling_ || index != next_) return;  // a recycling, not the roll
  if (!ok) {
    rolling_ = false;
    return effects_.aborted(index);
  }
  ++next_;
  step();
}

void RollingReload::step() {
  while (rolling_ && next_ < effects_.slots()) {
    switch (effects_.replace(next_)) {
      case SlotMachine::Replace::started: return;  // replaced() goes on
      case SlotMachine::Replace::not_ready: ++next_; break;  // it starts with the new config anyway
      case SlotMachine::Replace::failed:
        rolling_ = false;
        return effects_.aborted(next_);
    }
  }
  if (!rolling_) return;
  rolling_ = false;
  effects_.done();
}

}  // namespace handoff
