#include "supervisor/core/scale_watch.h"

#include <algorithm>

namespace handoff {

ScaleWatch::ScaleWatch(std::string app, std::size_t from, std::size_t to) : app_(std::move(app)), from_(from), to_(to) {
  for (std::size_t n = std::min(from, to) + 1; n <= std::max(from, to); ++n) slots_[static_cast<int>(n)] = {};
}

bool ScaleWatch::added(int slot) const { return to_ > from_ && slots_.contains(slot); }
bool ScaleWatch::removed(int slot) const { return to_ < from_ && slots_.contains(slot); }

void ScaleWatch::ready(int slot, std::int64_t pid) {
  if (!added(slot) || slots_[slot].state != Step::State::waiting) return;
  slots_[slot].state = Step::State::ready;
  slots_[slot].pid = pid;
}

void ScaleWatch::failed(int slot, std::string why) {
  if (!added(slot) || slots_[slot].state != Step::State::waiting) return;
  slots_[slot].state = Step::State::failed;
  slots_[slot].why = std::move(why);
}

void ScaleWatch::stopped(int slot) {
  if (removed(slot)) slots_[slot].state = Step::State::stopped;
}

void ScaleWatch::interrupt(std::string why) {
  if (!complete()) interrupted_ = std::move(why);
}

bool ScaleWatch::complete() const {
  if (!interrupted_.empty()) return true;
  return std::none_of(slots_.begin(), slots_.end(), [](const auto& s) { return s.second.state == Step::State::waiting; });
}

bool ScaleWatch::ok() const {
  if (!interrupted_.empty()) return false;
  return std::all_of(slots_.begin(), slots_.end(), [](const auto& s) {
    return s.second.state == Step::State::ready || s.second.state == Step::State::stopped;
  });
}

std::string ScaleWatch::describe() const {
  std::string text = app_ + ": scaled " + std::to_string(from_) + " -> " + std::to_string(to_);
  if (slots_.empty()) return text + " (no change)";
  std::string stopped, waiting, rest;
  for (const auto& [slot, step] : slots_) {
    const std::string n = std::to_string(slot);
    switch (step.state) {
      case Step::State::ready: rest += (rest.empty() ? "" : ", ") + ("slot " + n + " ready (pid " + std::to_string(*step.pid) + ")"); break;
      case Step::State::failed: rest += (rest.empty() ? "" : ", ") + ("slot " + n + " failed to start: " + step.why); break;
      case Step::State::stopped: stopped += (stopped.empty() ? "" : ", ") + n; break;
      case Step::State::waiting: waiting += (waiting.empty() ? "" : ", ") + n; break;
    }
  }
  auto slots = [](const std::string& list) { return (list.find(',') == std::string::npos ? "slot " : "slots ") + list; };
  if (!stopped.empty()) rest += (rest.empty() ? "" : ", ") + slots(stopped) + " stopped";
  if (!waiting.empty())
    rest += (rest.empty() ? "" : ", ") + slots(waiting) + (to_ > from_ ? " not ready" : " still draining") +
            (interrupted_.empty() ? "" : " (" + interrupted_ + ")");
  return text + ": " + rest;
}

}  // namespace handoff
