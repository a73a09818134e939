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
#include "supervisor/control_endpoint.h"
#include "supervisor/listener.h"
#include "supervisor/platform/platform.h"

namespace handoff {

class Master {
 public:
  // `control_name`: where to open the control endpoint (none when empty).
  Master(Config config, std::string config_path, std::string control_name = {});
  ~Master();

  // Binds every listener (a failure is a config error: exit code 2, nothing started),
  // starts the workers and runs until SIGTERM or SIGINT (Windows: Ctrl+C, Ctrl+Break,
  // the console closing) or `stop` on the control endpoint. Returns the exit code.
  int run();

 private:
  void on_signal(uv_signal_t* handle);
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
  std::vector<std::pair<uv_signal_t*, platform::SignalAction>> signal_actions_;
  std::string control_name_;
  std::unique_ptr<ControlEndpoint> control_;
  UvHandle<uv_timer_t> monitor_;
  bool shutting_down_ = false;
  int exit_code_ = 0;
};

}  // namespace handoff
