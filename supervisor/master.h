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
#include "supervisor/classifier.h"
#include "supervisor/config.h"
#include "supervisor/control_endpoint.h"
#include "supervisor/listener.h"
#include "supervisor/platform/platform.h"
#include "supervisor/routing/prefix_table.h"

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
  void wire_listeners();
  // A connection from listener `port` (its head read when the port needs one): picks the
  // app by URL prefix where apps share the port, then the app picks the slot.
  void route(std::size_t port, ConnectionPtr connection, const RequestHead* head);
  void accept(std::size_t port, ConnectionPtr connection);
  void handed_back(ConnectionPtr connection);
  std::unique_ptr<App> make_app(const AppConfig& config, std::size_t ipc_max_message);
  void monitor();  // every second: worker memory against max_rss, finished apps freed

  Config config_;
  std::string config_path_;
  uv_loop_t loop_{};
  // One listener's socket and how its connections find their app.
  struct Port {
    std::unique_ptr<Listener> listener;
    std::unique_ptr<Classifier> classifier;
    bool classify = false;  // read a PROXY header and/or the request head before routing
    std::vector<App*> apps;
    PrefixTable prefixes;   // owners are indexes into `apps`
  };
  std::vector<Port> ports_;  // in the order of config_.listeners
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
