// An app at run time: its slots and its routing rule. Connections from the app's
// listeners come in through dispatch(); the rule names a slot; the slot hands over.
#pragma once

#include <uv.h>

#include <deque>
#include <functional>
#include <memory>
#include <vector>

#include "supervisor/config.h"
#include "supervisor/connection.h"
#include "supervisor/routing/dispatch_policy.h"
#include "supervisor/slot.h"

namespace handoff {

class App {
 public:
  App(uv_loop_t* loop, const AppConfig& config, const Config& whole, std::function<void()> on_stopped);
  ~App();

  void start();
  void stop();
  void kill();
  bool stopped() const;

  void dispatch(ConnectionPtr connection);

  // For slots.
  uv_loop_t* loop() const { return loop_; }
  const AppConfig& config() const { return config_; }
  const Config& whole_config() const { return whole_; }
  const std::vector<std::pair<std::string, std::string>>& inherited_environment() const { return inherited_env_; }
  void slot_changed();                                     // readiness may have changed
  void redispatch(std::vector<ConnectionPtr> connections);  // a worker was lost
  void slot_stopped();

 private:
  void refresh_views();

  uv_loop_t* loop_;
  const AppConfig& config_;
  const Config& whole_;
  std::function<void()> on_stopped_;
  std::vector<std::pair<std::string, std::string>> inherited_env_;
  std::unique_ptr<DispatchPolicy> policy_;
  std::vector<std::unique_ptr<Slot>> slots_;
  std::vector<SlotView> views_;
  // Connections no slot could take yet (round_robin with no ready worker).
  std::deque<ConnectionPtr> unassigned_;
  bool stopping_ = false;
};

}  // namespace handoff
