#include "supervisor/core/observe/restart_reasons.h"

#include "protocols/overloaded.h"

namespace handoff {

void RestartReasons::on_event(const SlotEvent& event) {
  using namespace slot_event;
  std::visit(overloaded{
                 [&](const Recycling& e) { ++counts_[e.reason]; },
                 [&](const Killed& e) {
                   if (auto reason = restart_reason(e.kill.reason)) pending_ = reason;
                 },
                 [&](const StartFailed&) {
                   if (!pending_) pending_ = RestartReason::start_failure;
                 },
                 [&](const Exited& e) {
                   if (!pending_ && !e.planned) pending_ = RestartReason::crash;
                 },
                 [&](const Ready&) { pending_.reset(); },  // a replacement that failed earlier caused no restart
                 [&](const Backoff&) {
                   ++counts_[pending_.value_or(RestartReason::crash)];
                   pending_.reset();
                 },
                 [](const auto&) {},
             },
             event);
}

}  // namespace handoff
