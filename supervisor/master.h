// The supervisor process: owns the loop, the listeners and the apps; turns signals into
// shutdown. Everything here is wiring; decisions live in the pieces it wires.
#pragma once

#include <uv.h>

#include <map>
#include <memory>
#include <vector>

#include <handoff/uv_handle.h>

#include "supervisor/app.h"
#include "supervisor/config.h"
#include "supervisor/listener.h"

namespace handoff {

class Master {
 public:
  explicit Master(Config config);
  ~Master();

  // Binds every listener (a failure is a config error: exit code 2, nothing started),
  // starts the workers and runs until SIGTERM or SIGINT. Returns the exit code.
  int run();

 private:
  void shutdown();
  void on_app_stopped();

  // How long workers get to exit after SIGTERM before SIGKILL.
  static constexpr std::uint64_t kStopTimeoutMs = 10'000;

  Config config_;
  uv_loop_t loop_{};
  std::vector<std::unique_ptr<Listener>> listeners_;
  std::vector<std::unique_ptr<App>> apps_;
  std::vector<UvHandle<uv_signal_t>> signals_;
  UvHandle<uv_timer_t> stop_timer_;
  bool shutting_down_ = false;
};

}  // namespace handoff
