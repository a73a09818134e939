// The supervisor process: owns the loop, the listeners and the apps; turns signals and
// control commands into reloads, scaling and shutdowns; publishes what it does (the
// scoreboard, the admin endpoint, systemd's notify socket). Everything here is wiring;
// decisions live in the pieces it wires.
#pragma once

#include <uv.h>

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "uvglue/timer.h"
#include "uvglue/uv_handle.h"

#include "supervisor/edge/app.h"
#include "supervisor/edge/classifier.h"
#include "supervisor/core/config.h"
#include "supervisor/edge/control_server.h"
#include "supervisor/edge/roll_waiters.h"
#include "supervisor/edge/listener.h"
#include "supervisor/edge/admin_server.h"
#include "supervisor/edge/app_metrics_scrape.h"
#include "supervisor/edge/scoreboard_host.h"
#include "supervisor/platform/platform.h"
#include "supervisor/platform/worker_group.h"
#include "supervisor/core/observe/cpu_rate.h"
#include "supervisor/core/observe/status_view.h"
#include "supervisor/core/routing/port_apps.h"

namespace handoff {

class Master final : public ControlServer::Handler, public AdminSource {
 public:
  Master(Config config, std::string config_path);
  ~Master();

  // Binds every listener (a failure is a config error: exit code 2, nothing started),
  // starts the workers and runs until SIGTERM or SIGINT (Windows: Ctrl+C, Ctrl+Break,
  // the console closing) or `stop` on the control socket. Returns the exit code.
  int run();

 private:
  void on_signal(uv_signal_t* handle);
  // Reads the config again and applies it; every app's workers roll unless `config_only`
  // (then only those whose workers' config changed). What became of each app goes into
  // `wait` when given. The refusal (config errors), empty when the config was taken.
  std::string reload(bool config_only, control::RollWait* wait = nullptr);
  // The commands that wait for what they start (master_rolls.cpp): reload and restart,
  // answered once their rolls end; scale, once its slots settled (or at once without
  // `wait`); the line for what is still pending when a command's time is up.
  std::optional<control::Reply> roll_command(const control::Request& request, const ControlServer::Handler::Later& later);
  std::optional<control::Reply> scale_command(App& app, const control::Request& request,
                                              const ControlServer::Handler::Later& later);
  std::string roll_progress(const std::string& key, std::chrono::seconds waited) const;
  // What `wait` expects of `app` after asking it to roll (`rolls`: a roll started), or
  // after it scaled; how long the slowest of what it expects may take.
  static void expect_roll(control::RollWait& wait, const App& app, bool rolls);
  static void expect_scale(control::RollWait& wait, const App& app);
  std::chrono::milliseconds wait_bound(const control::RollWait& wait) const;
  void shutdown();
  // `supervisor cache purge [APP] [PREFIX]`: every app with a cache when `app` is empty.
  control::Reply purge_cache(const std::string& app, const std::string& prefix);
  void on_app_stopped();
  void wire_listeners();
  // A connection from listener `port` (its head read when the port needs one): picks the
  // app by URL prefix where apps share the port, then the app picks the slot.
  void route(std::size_t port, ConnectionPtr&& connection, const RequestHead* head);
  void accept(std::size_t port, ConnectionPtr&& connection);
  void handed_back(ConnectionPtr connection);
  // Every connection the master answers itself on a port (400, 404, 408, 431, 503): the
  // port's app counts it, or the listener when the port has several apps (none known).
  void reject(std::size_t port, ConnectionPtr connection, int status);
  void monitor();  // every second: worker memory against max_rss, rates, finished apps freed
  void sample_own_usage();  // the master's CPU and memory, for status and top
  int open_observability();  // scoreboard, control socket, admin endpoint; exit code on failure
  void start_watchdog();
  void check_descriptor_limit();  // raises it, and warns when the config cannot fit
  AppHooks hooks_for(const AppConfig& app);
  std::unique_ptr<App> make_app(const AppConfig& app, std::size_t ipc_max_message);
  void check_ready();  // READY=1 once listeners are up and every app has min_ready
  bool all_ready(std::string& detail) const;
  std::vector<scoreboard::Snapshot> snapshot() const;
  StatusInput status_input() const;

  // ControlServer::Handler
  std::optional<control::Reply> handle(const control::Request& request, std::function<void()>& after,
                                       const Later& later) override;
  // AdminSource
  std::string metrics_text() override;
  void metrics_async(std::function<void(std::string)> done) override;  // with the apps' own
  std::string status_text() override;
  bool healthy(std::string& detail) override;
  bool ready(std::string& detail) override;

  Config config_;
  std::string config_path_;
  uv_loop_t loop_{};
  // One listener's socket and how its connections find their app.
  struct Port {
    std::unique_ptr<Listener> listener;
    std::unique_ptr<Classifier> classifier;
    bool classify = false;  // read a PROXY header and/or the request head before routing
    std::vector<App*> apps;  // indexed as `routes` counts them
    PortApps routes;
  };
  std::vector<Port> ports_;  // in the order of config_.listeners
  std::map<std::string, RejectionCounts> listener_rejected_;  // by listener name: rejections no app is known for
  std::map<std::string, std::unique_ptr<App>> apps_;
  std::vector<std::unique_ptr<App>> removed_apps_;  // stopping after a reload dropped them
  std::vector<UvHandle<uv_signal_t>> signals_;
  std::vector<std::pair<uv_signal_t*, platform::SignalAction>> signal_actions_;
  Timer monitor_;
  Timer watchdog_;
  std::unique_ptr<platform::WorkerGuard> worker_guard_;
  std::unique_ptr<ScoreboardHost> scoreboard_;
  std::optional<std::uint32_t> scoreboard_uid_;  // the workers' user it was given to
  std::unique_ptr<ControlServer> control_;
  std::unique_ptr<RollWaiters> roll_waiters_;  // commands waiting for their rolls
  std::unique_ptr<AdminServer> admin_;
  std::unique_ptr<AppMetricsScrapes> app_metrics_;
  std::int64_t started_ms_ = 0;
  std::chrono::steady_clock::time_point last_monitor_{};
  CpuRate cpu_rate_;
  bool listening_ = false;
  bool notified_ready_ = false;
  bool reloading_ = false;
  bool shutting_down_ = false;
  int exit_code_ = 0;
};

}  // namespace handoff
