// The master's commands that wait for what they start: `reload` and `restart APP` until
// their rolls end, `scale APP N` until its slots settled. Wiring: the apps report each
// end (AppHooks), RollWaiters holds the control connections, core decides the words.
#include "supervisor/edge/master.h"

namespace handoff {

void Master::expect_roll(control::RollWait& wait, const App& app, bool rolls) {
  if (!rolls) return wait.add(RollReport::of(app.config().name, RollReport::Outcome::unchanged));
  if (app.rolling()) return wait.expect(app.config().name);
  wait.add(app.roll_report());  // ended at once: no slot had a ready worker, or a spawn failed
}

void Master::expect_scale(control::RollWait& wait, const App& app) {
  const auto key = control::scale_key(app.config().name);
  if (app.scaling()) wait.expect(key);
  else wait.add(key, app.scale_ok(), app.scale_text());  // settled at once
}

std::chrono::milliseconds Master::wait_bound(const control::RollWait& wait) const {
  // Apps roll and scale side by side: the slowest bounds the wait. A roll's slots start
  // one after the other; a scale's all at once.
  std::chrono::milliseconds bound{0};
  for (const auto& [name, app] : apps_) {
    if (wait.pending().contains(name)) bound = std::max(bound, roll_wait_bound(app->config(), app->slot_count()));
    if (wait.pending().contains(control::scale_key(name))) bound = std::max(bound, roll_wait_bound(app->config(), 1));
  }
  return bound;
}

std::optional<control::Reply> Master::roll_command(const control::Request& request,
                                                   const ControlServer::Handler::Later& later) {
  control::RollWait wait;
  if (request.command == control::Command::reload) {
    if (auto refusal = reload(request.config_only, &wait); !refusal.empty()) return control::Reply{false, refusal, {}};
  } else {
    auto it = apps_.find(request.app);
    if (it == apps_.end()) {
      std::string names;
      for (const auto& [name, app] : apps_) names += (names.empty() ? "" : ", ") + name;
      return control::Reply{false, "no app named \"" + request.app + "\" (apps: " + names + ")", {}};
    }
    expect_roll(wait, *it->second, it->second->restart());
  }
  const auto bound = request.timeout_ms > 0 ? std::chrono::milliseconds(request.timeout_ms) : wait_bound(wait);
  return roll_waiters_->wait(std::move(wait), later, bound);
}

std::optional<control::Reply> Master::scale_command(App& app, const control::Request& request,
                                                    const ControlServer::Handler::Later& later) {
  const auto before = app.slot_count();
  app.scale(request.workers);
  // Keys map onto the new slot count: the workers that stay check with it too.
  if (app.slot_count() != before) app.announce_route();
  if (!request.wait)
    return control::Reply{true,
                          "app " + request.app + ": " + std::to_string(request.workers) + " workers (was " +
                              std::to_string(before) + "); the config's `workers` applies again at the next reload",
                          {}};
  // Answered once the new slots are ready and the removed ones gone.
  control::RollWait wait;
  if (app.slot_count() == before)
    wait.add(control::scale_key(request.app), true, request.app + ": " + std::to_string(before) + " workers already");
  else expect_scale(wait, app);
  const auto bound = request.timeout_ms > 0 ? std::chrono::milliseconds(request.timeout_ms) : wait_bound(wait);
  return roll_waiters_->wait(std::move(wait), later, bound);
}

std::string Master::roll_progress(const std::string& key, std::chrono::seconds waited) const {
  const std::string after = "after waiting " + std::to_string(waited.count()) + " s (it goes on)";
  for (const auto& [name, app] : apps_) {
    if (key == control::scale_key(name)) return app->scale_text() + "; " + after;
    if (key != name) continue;
    RollReport report = app->roll_report();
    report.outcome = RollReport::Outcome::unfinished;
    report.reason = after;
    return describe(report);
  }
  return key + ": gone from the config meanwhile";
}

}  // namespace handoff
