#include "supervisor/core/roll_report.h"

#include <algorithm>

namespace handoff {
namespace {

std::string pid_text(const std::optional<std::int64_t>& pid) { return pid ? std::to_string(*pid) : "?"; }

std::size_t replaced(const RollReport& r) {
  std::size_t n = 0;
  for (const auto& step : r.steps) n += step.replaced && step.new_pid ? 1 : 0;
  return n;
}

// "pids 101->201, 102->202; slot 3 had no ready worker" (empty when nothing happened).
std::string steps_text(const RollReport& r) {
  std::string pids, skipped;
  for (const auto& step : r.steps) {
    if (step.replaced && step.new_pid) {
      pids += (pids.empty() ? "pids " : ", ") + pid_text(step.old_pid) + "->" + pid_text(step.new_pid);
    } else if (!step.replaced) {
      skipped += (skipped.empty() ? "" : ", ") + std::to_string(step.slot);
    }
  }
  if (!skipped.empty())
    skipped = "slot" + std::string(skipped.find(',') == std::string::npos ? " " : "s ") + skipped +
              " had no ready worker and will start with the new config";
  if (pids.empty()) return skipped;
  return skipped.empty() ? pids : pids + "; " + skipped;
}

std::string in_parens(const std::string& text) { return text.empty() ? "" : " (" + text + ")"; }

}  // namespace

bool failed(const RollReport& r) {
  using O = RollReport::Outcome;
  return r.outcome == O::aborted || r.outcome == O::superseded || r.outcome == O::stopped || r.outcome == O::unfinished;
}

std::string describe(const RollReport& r) {
  using O = RollReport::Outcome;
  const std::string head = r.app + ": ";
  const std::string count = std::to_string(replaced(r)) + "/" + std::to_string(r.slots);
  const int at = r.steps.empty() ? 1 : r.steps.back().slot;
  switch (r.outcome) {
    case O::unchanged:
      return head + "unchanged";
    case O::rolled:
      return head + "rolled " + count + " slots" + in_parens(steps_text(r));
    case O::aborted:
      return head + "roll aborted at slot " + std::to_string(at) + ": " +
             (r.reason.empty() ? "the new worker did not become ready" : r.reason) + "; " + count +
             " slots rolled" + in_parens(steps_text(r)) + ", the old workers keep serving the others";
    case O::superseded:
      return head + "roll started over by a newer reload or restart at slot " + std::to_string(at) + "; " + count +
             " slots rolled" + in_parens(steps_text(r));
    case O::stopped:
      return head + "roll stopped at slot " + std::to_string(at) + ": the app is stopping; " + count +
             " slots rolled" + in_parens(steps_text(r));
    case O::unfinished:
      return head + "still rolling at slot " + std::to_string(at) + (r.reason.empty() ? "" : " " + r.reason) + "; " +
             count + " slots rolled" + in_parens(steps_text(r));
    case O::added:
      return head + "added (" + std::to_string(r.slots) + (r.slots == 1 ? " slot" : " slots") + " starting)";
    case O::removed:
      return head + "removed (its workers drain)";
  }
  return head + "unknown";
}

std::chrono::milliseconds roll_wait_bound(const AppConfig& app, std::size_t slots) {
  return app.lifecycle.start_timeout * static_cast<std::int64_t>(std::max<std::size_t>(slots, 1)) +
         app.lifecycle.drain_timeout;
}

std::optional<std::string> roll_failure(const SlotEvent& event) {
  if (const auto* e = std::get_if<slot_event::StartFailed>(&event))
    return "start_failure (" + describe(e->status) + (e->kill ? ", killed: " + describe(*e->kill) : "") + ")";
  if (const auto* e = std::get_if<slot_event::SpawnFailed>(&event)) return "spawn_failed (" + e->error + ")";
  return std::nullopt;
}

}  // namespace handoff
