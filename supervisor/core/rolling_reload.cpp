#include "supervisor/core/rolling_reload.h"

namespace handoff {

void RollingReload::start() {
  if (rolling_) finish(RollReport::Outcome::superseded);
  rolling_ = true;
  next_ = 0;
  report_.steps.clear();
  report_.reason.clear();
  step();
}

void RollingReload::replaced(std::size_t index, bool ok) {
  if (!rolling_ || index != next_) return;  // a recycling, not the roll
  if (!ok) return finish(RollReport::Outcome::aborted, effects_.failure(index));
  report_.steps.back().new_pid = effects_.pid(index);
  ++next_;
  step();
}

void RollingReload::stop() {
  if (rolling_) finish(RollReport::Outcome::stopped);
}

void RollingReload::slots_changed() {
  if (rolling_ && next_ >= effects_.slots()) step();
}

RollReport RollingReload::report() const {
  RollReport r = report_;
  if (rolling_) {
    r.outcome = RollReport::Outcome::unfinished;
    r.slots = effects_.slots();
  }
  return r;
}

void RollingReload::step() {
  while (rolling_ && next_ < effects_.slots()) {
    SlotRoll roll{static_cast<int>(next_ + 1), effects_.pid(next_), std::nullopt, true};
    const auto result = effects_.replace(next_);
    roll.replaced = result != SlotMachine::Replace::not_ready;
    report_.steps.push_back(roll);
    switch (result) {
      case SlotMachine::Replace::started: return;  // replaced() goes on
      case SlotMachine::Replace::not_ready: ++next_; break;  // it starts with the new config anyway
      case SlotMachine::Replace::failed: return finish(RollReport::Outcome::aborted, effects_.failure(next_));
    }
  }
  if (rolling_) finish(RollReport::Outcome::rolled);
}

void RollingReload::finish(RollReport::Outcome outcome, std::string reason) {
  rolling_ = false;
  report_.outcome = outcome;
  report_.reason = std::move(reason);
  report_.slots = effects_.slots();
  effects_.finished(report_);
}

}  // namespace handoff
