#include "supervisor/edge/roll_waiters.h"

namespace handoff {

std::optional<control::Reply> RollWaiters::wait(control::RollWait wait, ControlServer::Handler::Later answer,
                                                 std::chrono::milliseconds bound) {
  if (wait.complete()) return wait.reply();
  auto waiting = std::make_unique<Waiting>(Waiting{std::move(wait), std::move(answer), Timer(loop_), bound});
  Waiting* raw = waiting.get();
  waiting_.push_back(std::move(waiting));
  raw->timer.start(static_cast<std::uint64_t>(bound.count()), 0, [this, raw] { time_up(raw); });
  return std::nullopt;
}

void RollWaiters::ended(const std::string& key, bool ok, const std::string& line) {
  for (auto it = waiting_.begin(); it != waiting_.end();) {
    Waiting& w = **it;
    if (w.wait.take(key, ok, line) && w.wait.complete()) {
      auto done = std::move(*it);
      it = waiting_.erase(it);
      done->answer(done->wait.reply());
    } else {
      ++it;
    }
  }
}

void RollWaiters::time_up(Waiting* waiting) {
  const auto waited = std::chrono::duration_cast<std::chrono::seconds>(waiting->bound);
  for (const auto pending = waiting->wait.pending(); const auto& key : pending)
    waiting->wait.add(key, false, progress_(key, waited));
  for (auto it = waiting_.begin(); it != waiting_.end(); ++it)
    if (it->get() == waiting) {
      auto done = std::move(*it);  // its timer closes with it: this callback is its last
      waiting_.erase(it);
      done->answer(done->wait.reply());
      return;
    }
}

}  // namespace handoff
