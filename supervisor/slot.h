// One worker position of an app: its lifecycle, its current process, and the queue of
// connections routed to it. Connections wait here while the slot has no ready worker,
// so a restarted worker takes its clients back (affinity to the slot, not the pid).
#pragma once

#include <uv.h>

#include <memory>

#include <handoff/uv_handle.h>

#include "supervisor/connection.h"
#include "supervisor/handoff_queue.h"
#include "supervisor/lifecycle.h"
#include "supervisor/worker_process.h"

namespace handoff {

class App;

class Slot final : private WorkerProcess::Observer {
 public:
  // Connections a slot may hold before new ones get 503.
  static constexpr std::size_t kMaxQueued = 5000;

  Slot(App& app, int number);  // number is 1-based
  ~Slot();

  void start() { apply(SlotEvent::start); }
  void stop() { apply(SlotEvent::stop); }
  void kill();  // last resort at shutdown

  void enqueue(ConnectionPtr connection);

  int number() const { return number_; }
  SlotState state() const { return state_; }
  bool accepting() const { return state_ == SlotState::ready && process_ && process_->channel_open(); }
  std::size_t queued() const { return queue_.size(); }

 private:
  void apply(SlotEvent event);
  void spawn();
  void pump();
  void send_in_flight();
  std::string name() const;

  void on_message(const ipc::Message& message) override;
  void on_channel_lost() override;
  void on_exit(std::int64_t exit_status, int term_signal) override;

  App& app_;
  const int number_;
  SlotState state_ = SlotState::stopped;
  int generation_ = 0;
  std::unique_ptr<WorkerProcess> process_;
  HandoffQueue<ConnectionPtr> queue_;
  UvHandle<uv_timer_t> restart_timer_;
};

}  // namespace handoff
