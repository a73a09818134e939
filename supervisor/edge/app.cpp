#include "supervisor/edge/app.h"

#include "supervisor/edge/log.h"
#include "supervisor/edge/real_host.h"

namespace handoff {

App::App(uv_loop_t* loop, std::shared_ptr<const AppConfig> config, std::size_t ipc_max_message,
         std::function<void()> on_stopped, AppHooks hooks)
    : loop_(loop),
      config_(std::move(config)),
      ipc_max_message_(ipc_max_message),
      on_stopped_(std::move(on_stopped)),
      inherited_env_(supervisor_environment()),
      hooks_(std::move(hooks)) {
  set_rule();
  for (int n = 1; n <= config_->workers; ++n) slots_.push_back(std::make_unique<Slot>(*this, n, config_));
  refresh_views();
}

App::~App() = default;

void App::start() {
  for (auto& slot : slots_) slot->start();
}

void App::stop(std::chrono::milliseconds grace) {
  stopping_ = true;
  rolling_ = false;
  for (auto& slot : slots_) slot->stop(grace);
  for (auto& slot : retired_) slot->stop(grace);
  slot_changed();
}

void App::kill_all() {
  for (auto& slot : slots_) slot->kill_all();
  for (auto& slot : retired_) slot->kill_all();
}

bool App::stopped() const {
  for (const auto* list : {&slots_, &retired_})
    for (const auto& slot : *list)
      if (slot->state() != SlotState::stopped) return false;
  return true;
}

void App::sample_rss() {
  // Also the place to free slots scaled away: this runs from a timer, never from inside
  // one of those slots' own callbacks.
  reap_retired();
  for (auto& slot : slots_) slot->sample_rss();
}

// ---- Dispatch -----------------------------------------------------------------------

void App::refresh_views() {
  views_.resize(slots_.size());
  for (std::size_t i = 0; i < slots_.size(); ++i) views_[i].ready = slots_[i]->accepting();
}

// Another ready slot for a connection whose own slot is down: the next ready one after
// it, so the same key always moves to the same place.
std::optional<std::size_t> App::rehash(std::size_t home) const {
  for (std::size_t step = 1; step < views_.size(); ++step) {
    const std::size_t candidate = (home + step) % views_.size();
    if (views_[candidate].ready) return candidate;
  }
  return std::nullopt;
}

void App::reject(ConnectionPtr connection, int status) { handoff::reject(std::move(connection), status, rejected_); }

void App::handed_off(const Connection& connection) {
  handoff_latency_.observe(
      std::chrono::duration<double>(std::chrono::steady_clock::now() - connection.accepted_at).count());
}

int App::ready_workers() const {
  int n = 0;
  for (const auto& slot : slots_) n += slot->accepting() ? 1 : 0;
  return n;
}

AppMetrics App::metrics() const {
  AppMetrics m;
  m.name = config_->name;
  m.rejected = rejected_;
  m.handoff_latency = handoff_latency_;
  m.ready_workers = ready_workers();
  m.min_ready = config_->min_ready;
  for (const auto* list : {&slots_, &retired_})
    for (const auto& slot : *list)
      if (!slot->restart_counts().empty()) m.restarts[static_cast<std::uint32_t>(slot->number())] = slot->restart_counts();
  return m;
}

void App::dispatch(ConnectionPtr connection, const RequestHead* head) {
  if (stopping_ || slots_.empty()) {
    reject(std::move(connection), 503);
    return;
  }
  const auto decision =
      policy_->pick(RouteInput{connection->address_bytes(), head, connection->address_text, connection->port}, views_);
  if (decision.kind == Decision::Kind::reject) {
    reject(std::move(connection), decision.status);
    return;
  }
  std::optional<std::size_t> pick;
  if (decision.kind == Decision::Kind::slot) pick = decision.slot;
  if (!pick) {
    // No slot is ready and the rule has no preference: wait in the queue (bounded like
    // any other) of the first slot that may still start a worker, until some slot comes
    // up; slot_changed moves it there. No slot can: 503 now.
    if (config_->on_unavailable == Unavailable::reject) {
      reject(std::move(connection), 503);
      return;
    }
    for (auto& slot : slots_)
      if (!slot->turns_away()) {
        slot->enqueue(std::move(connection));
        return;
      }
    reject(std::move(connection), 503);
    return;
  }
  if (!views_[*pick].ready) {
    switch (config_->on_unavailable) {
      case Unavailable::queue: break;
      case Unavailable::rehash:
        if (auto other = rehash(*pick)) pick = other;
        break;
      case Unavailable::reject: reject(std::move(connection), 503); return;
    }
  }
  slots_[*pick]->enqueue(std::move(connection));
}

void App::set_rule() {
  std::string error;
  auto policy = make_policy(config_->policy, real_host().load_library, error);
  const PolicyEntry* entry = find_policy(config_->policy.name);
  if (!policy) {
    // The config check made this rule a moment ago (a plugin that loaded then and not
    // now): keep the rule we have; without one, fall back to round_robin.
    log_event("policy_failed", {{"app", config_->name}, {"error", error}});
    if (policy_) return;
    entry = find_policy("round_robin");
    policy = make_policy(RuleConfig{}, real_host().load_library, error);
  }
  policy_entry_ = entry;
  policy_ = std::move(policy);
  auto foreign = std::move(route_check_.foreign);
  route_check_ = {};
  if (policy_entry_->worker_checkable) {
    const auto& rule = config_->policy;
    route_check_.rule = key_source_named(rule.name);
    route_check_.index = rule.index;
    route_check_.direct = rule.direct;
    route_check_.name = rule.key_name;
    route_check_.missing_stays = rule.missing_key != "404";
  }
  route_check_.prefixes = config_->routes;
  route_check_.foreign = std::move(foreign);
}

void App::set_foreign_prefixes(std::vector<std::string> prefixes) { route_check_.foreign = std::move(prefixes); }

void App::announce_route() {
  const auto message = route_message();
  log_event("route", {{"app", config_->name},
                      {"workers", std::to_string(message.workers)},
                      {"rule", message.route.rule == KeySource::none ? "none" : std::string(name_of(message.route.rule))}});
  // Retired slots are draining: their responses close their connections anyway.
  for (auto& slot : slots_) slot->send_route(message);
}

void App::handed_back(ConnectionPtr connection) {
  if (route_again_) route_again_(std::move(connection));
}

void App::slot_changed() {
  // The views follow readiness here, so dispatch reads them without asking every slot.
  refresh_views();
  if (const int ready = ready_workers(); ready != ready_) {
    ready_ = ready;
    if (hooks_.on_ready_changed) hooks_.on_ready_changed();
  }
  if (stopping_) {
    if (stopped() && on_stopped_) on_stopped_();
    return;
  }
  // A slot came up: connections waiting where no rule keeps them get another chance.
  if (affinity() && config_->on_unavailable == Unavailable::queue) return;
  bool any_ready = false;
  for (const auto& v : views_) any_ready = any_ready || v.ready;
  if (!any_ready) return;
  for (std::size_t i = 0; i < slots_.size(); ++i)
    if (!views_[i].ready) redispatch(slots_[i]->take_waiting());
}

void App::redispatch(std::vector<ConnectionPtr> connections) {
  for (auto& c : connections) dispatch(std::move(c));
}

// ---- Reload -------------------------------------------------------------------------

void App::reconfigure(std::shared_ptr<const AppConfig> next) {
  const auto previous = config_;
  config_ = std::move(next);
  if (!(config_->policy == previous->policy) || config_->routes != previous->routes) set_rule();
  const bool new_workers = !config_->same_workers_as(*previous);
  // Settings that need no new process apply to every slot now.
  if (!new_workers)
    for (auto& slot : slots_) slot->set_config(config_);
  scale(config_->workers);
  if (new_workers) {
    log_event("reload_roll", {{"app", config_->name}, {"slots", std::to_string(slots_.size())}});
    rolling_ = true;
    roll_next_ = 0;
    roll_step();
  }
}

void App::scale(int workers) {
  const auto target = static_cast<std::size_t>(workers);
  if (target == slots_.size()) return;
  log_event("scale", {{"app", config_->name}, {"from", std::to_string(slots_.size())}, {"to", std::to_string(target)}});
  while (slots_.size() < target) {
    slots_.push_back(std::make_unique<Slot>(*this, static_cast<int>(slots_.size()) + 1, config_));
    slots_.back()->start();
  }
  std::vector<ConnectionPtr> orphans;
  while (slots_.size() > target) {
    auto slot = std::move(slots_.back());
    slots_.pop_back();
    for (auto& c : slot->take_waiting()) orphans.push_back(std::move(c));
    // The app goes on serving: its workers may give idle keep-alive sockets back.
    slot->stop(config_->lifecycle.drain_timeout, /*hand_back=*/true);
    retired_.push_back(std::move(slot));
  }
  refresh_views();
  redispatch(std::move(orphans));
  slot_changed();  // readiness counts changed
}

void App::roll_step() {
  while (rolling_ && roll_next_ < slots_.size()) {
    switch (slots_[roll_next_]->replace(config_)) {
      case SlotMachine::Replace::started: return;  // replacement_done continues the roll
      case SlotMachine::Replace::not_ready: ++roll_next_; break;  // it will start with the new config
      case SlotMachine::Replace::failed:
        replacement_done(static_cast<int>(roll_next_) + 1, false);
        return;
    }
  }
  if (rolling_) log_event("reload_done", {{"app", config_->name}});
  rolling_ = false;
}

void App::replacement_done(int slot, bool ok) {
  if (!rolling_ || static_cast<std::size_t>(slot) != roll_next_ + 1) return;  // a recycling, not the roll
  if (!ok) {
    rolling_ = false;
    log_event("reload_aborted", {{"app", config_->name}, {"slot", std::to_string(slot)},
                                 {"reason", "the new worker did not become ready; the old workers keep serving"}});
    return;
  }
  ++roll_next_;
  roll_step();
}

void App::reap_retired() {
  std::erase_if(retired_, [](const std::unique_ptr<Slot>& s) { return s->state() == SlotState::stopped; });
}

}  // namespace handoff
