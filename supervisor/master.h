// The supervisor process: owns the loop, the listeners and the apps; turns signals into
// reloads and shutdowns. Everything here is wiring; decisions live in the pieces it wires.
#pragma once

#include <uv.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include <handoff/uv_handle.h>

#include "supervisor/app.h"
#include "supervisor/config.h"
#include "supervisor/listener.h"

namespace handoff {

class Master {
 public:
  Master(Config config, std::string config_path);
  ~Master();

  // Binds every listener (a failure is a config error: exit code 2, nothing started),
  // starts the workers and runs until SIGTERM or SIGINT. Returns the exit code.
  int run();

 private:
  void reload();
  void shutdown();
  void on_app_stopped();
  App* owner_of(std::size_t listener) const;
  void wire_listeners();
  void monitor();  // every second: worker memory against max_rss, finished apps freed

  Config config_;
  std::string config_path_;
  uv_loop_t loop_{};
  std::vector<std::unique_ptr<Listener>> listeners_;
  std::vector<App*> owners_;  // per listener
  std::map<std::string, std::unique_ptr<App>> apps_;
  std::vector<std::unique_ptr<App>> removed_apps_;  // stopping after a reload dropped them
  std::vector<UvHandle<uv_signal_t>> signals_;
  UvHandle<uv_timer_t> monitor_;
  bool shutting_down_ = false;
  int exit_code_ = 0;
};

}  // namespace handoff
