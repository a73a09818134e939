#include "supervisor/app.h"

#include "supervisor/log.h"

namespace handoff {
namespace {

std::vector<std::pair<std::string, std::string>> read_environment() {
  std::vector<std::pair<std::string, std::string>> out;
  uv_env_item_t* items = nullptr;
  int count = 0;
  if (uv_os_environ(&items, &count) != 0) return out;
  for (int i = 0; i < count; ++i) out.emplace_back(items[i].name, items[i].value);
  uv_os_free_environ(items, count);
  return out;
}

}  // namespace

App::App(uv_loop_t* loop, const AppConfig& config, const Config& whole, std::function<void()> on_stopped)
    : loop_(loop),
      config_(config),
      whole_(whole),
      on_stopped_(std::move(on_stopped)),
      inherited_env_(read_environment()),
      policy_(find_policy(config.policy)->make()) {
  for (int n = 1; n <= config.workers; ++n) slots_.push_back(std::make_unique<Slot>(*this, n));
  views_.resize(slots_.size());
}

App::~App() = default;

void App::start() {
  for (auto& slot : slots_) slot->start();
}

void App::stop() {
  stopping_ = true;
  unassigned_.clear();  // closes them: nobody will serve them now
  for (auto& slot : slots_) slot->stop();
}

void App::kill() {
  for (auto& slot : slots_) slot->kill();
}

bool App::stopped() const {
  for (const auto& slot : slots_)
    if (slot->state() != SlotState::stopped) return false;
  return true;
}

void App::slot_stopped() {
  if (stopping_ && stopped() && on_stopped_) on_stopped_();
}

void App::refresh_views() {
  for (std::size_t i = 0; i < slots_.size(); ++i) {
    views_[i].ready = slots_[i]->accepting();
    views_[i].in_flight = static_cast<std::uint32_t>(slots_[i]->queued());
  }
}

void App::dispatch(ConnectionPtr connection) {
  if (stopping_) return;  // closes it
  refresh_views();
  const auto slot = policy_->pick(RouteInput{connection->address_bytes()}, views_);
  if (!slot) {
    if (unassigned_.size() >= Slot::kMaxQueued * slots_.size()) {
      reject(std::move(connection), "503 Service Unavailable");
      return;
    }
    unassigned_.push_back(std::move(connection));
    return;
  }
  slots_[*slot]->enqueue(std::move(connection));
}

void App::slot_changed() {
  // A slot became ready: connections that no slot could take get another chance.
  std::deque<ConnectionPtr> waiting;
  waiting.swap(unassigned_);
  for (auto& c : waiting) dispatch(std::move(c));
}

void App::redispatch(std::vector<ConnectionPtr> connections) {
  for (auto& c : connections) dispatch(std::move(c));
}

}  // namespace handoff
