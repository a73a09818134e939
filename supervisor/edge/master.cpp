#include "supervisor/edge/master.h"

#include "protocols/build_info.h"

#include <algorithm>
#include <csignal>
#include <map>
#include <set>
#include <variant>

#include "protocols/unix_time.h"
#include "supervisor/core/config_error.h"
#include "supervisor/core/config_loader.h"
#include "supervisor/core/descriptor_budget.h"
#include "supervisor/edge/log.h"
#include "supervisor/edge/real_host.h"
#include "supervisor/core/observe/metrics_text.h"
#include "supervisor/core/observe/status_view.h"
#include "supervisor/platform/kernel_dispatch.h"
#include "supervisor/platform/platform.h"
#include "supervisor/platform/process_hygiene.h"
#include "supervisor/platform/service.h"

namespace handoff {
namespace {

// How often worker memory is sampled against max_rss (and retired slots are freed).
constexpr std::uint64_t kMonitorEveryMs = 1000;
// /healthz fails when the monitor timer is this late: the loop is stuck somewhere.
constexpr auto kMonitorLate = std::chrono::milliseconds(5000);

std::string address_text(const std::string& host, int port) {
  return (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

bool same_listeners(const Config& a, const Config& b) {
  if (a.listeners.size() != b.listeners.size()) return false;
  for (std::size_t i = 0; i < a.listeners.size(); ++i) {
    const auto &x = a.listeners[i], &y = b.listeners[i];
    if (x.name != y.name || x.host != y.host || x.port != y.port || x.backlog != y.backlog ||
        x.proxy_protocol != y.proxy_protocol || x.httpsys != y.httpsys)
      return false;
  }
  return true;
}

// Which listeners the kernel dispatches (an app's listener under kernel dispatch), by name.
bool kernel_dispatched(const Config& config, const std::string& listener) {
  return std::any_of(config.apps.begin(), config.apps.end(),
                     [&](const AppConfig& a) { return a.kernel_listener && a.kernel_listener->name == listener; });
}

// A listener's intake cannot change under running workers (its socket is held or listened
// on, its apps' workers get connections one way or the other): the name of one that did.
std::string dispatch_changed(const Config& a, const Config& b) {
  for (const auto& l : a.listeners)
    if (kernel_dispatched(a, l.name) != kernel_dispatched(b, l.name)) return l.name;
  return {};
}

}  // namespace

Master::Master(Config config, std::string config_path)
    : config_(std::move(config)), config_path_(std::move(config_path)) {
  uv_loop_init(&loop_);
  set_log_format(config_.log_format);
  app_metrics_ = std::make_unique<AppMetricsScrapes>(&loop_);
}

Master::~Master() {
  // Close every handle we still own, let libuv run their close callbacks, then the loop.
  roll_waiters_.reset();
  control_.reset();  // removes the socket file
  admin_.reset();
  app_metrics_.reset();
  ports_.clear();
  apps_.clear();
  removed_apps_.clear();
  signals_.clear();
  monitor_.reset();
  watchdog_.reset();
  worker_guard_.reset();  // its pipe closes: the guard kills what is left, if anything, and exits
  uv_run(&loop_, UV_RUN_DEFAULT);
  uv_loop_close(&loop_);
  scoreboard_.reset();  // after the slots released their records: removes the segment
}

void Master::wire_listeners() {
  ports_.resize(config_.listeners.size());
  for (std::size_t i = 0; i < config_.listeners.size(); ++i) {
    const auto& lc = config_.listeners[i];
    Port& port = ports_[i];
    port.apps.clear();
    port.routes = {};
    bool any_needs_head = false;
    for (const auto& [name, app] : apps_)
      for (const auto& l : app->config().listeners)
        if (l == lc.name) {
          port.routes.add(app->config().routes);
          port.apps.push_back(app.get());
          any_needs_head = any_needs_head || app->needs_head();
        }
    const Classifier::Settings settings{lc.proxy_protocol, any_needs_head || port.routes.reads_path(), lc.head_timeout,
                                        lc.max_head, lc.max_classifying};
    port.classify = settings.proxy_protocol || settings.read_head;
    if (port.classifier) port.classifier->set_settings(settings);
    else
      port.classifier = std::make_unique<Classifier>(
          &loop_, settings, [this, i](ConnectionPtr c, const RequestHead* head) { route(i, std::move(c), head); },
          [this, i](ConnectionPtr c, int status) { reject(i, std::move(c), status); });
  }
  // Each app's workers learn which prefixes on their ports belong to others (welcome.route).
  for (auto& [name, app] : apps_) {
    std::vector<std::string> foreign;
    for (std::size_t i = 0; i < ports_.size(); ++i)
      for (std::size_t owner = 0; owner < ports_[i].apps.size(); ++owner)
        if (ports_[i].apps[owner] == app.get())
          for (auto& prefix : ports_[i].routes.foreign_to(owner))
            if (std::find(foreign.begin(), foreign.end(), prefix) == foreign.end()) foreign.push_back(std::move(prefix));
    app->set_foreign_prefixes(std::move(foreign));
  }
}

void Master::accept(std::size_t i, ConnectionPtr&& connection) {
  Port& port = ports_[i];
  if (!port.classify) return route(i, std::move(connection), nullptr);  // its app's dispatch reads the clock
  if (connection->accepted_at == TimePoint{}) connection->accepted_at = std::chrono::steady_clock::now();
  port.classifier->add(std::move(connection));
}

void Master::route(std::size_t i, ConnectionPtr&& connection, const RequestHead* head) {
  const Port& port = ports_[i];
  const auto owner = port.routes.owner(head);
  if (!owner) return reject(i, std::move(connection), 404);  // no app claims this path
  port.apps[*owner]->dispatch(std::move(connection), head);
}

void Master::reject(std::size_t i, ConnectionPtr connection, int status) {
  const Port& port = ports_[i];
  if (port.apps.size() == 1) return port.apps.front()->reject(std::move(connection), status);
  handoff::reject(std::move(connection), status, listener_rejected_[config_.listeners[i].name]);
}

void Master::handed_back(ConnectionPtr connection) {
  for (std::size_t i = 0; i < config_.listeners.size(); ++i)
    if (config_.listeners[i].name == connection->listener && i < ports_.size() && ports_[i].listener)
      return accept(i, std::move(connection));
  // Its listener is gone (shutting down): nobody can serve it any more. One a draining
  // worker gave back idle, whose client asked nothing, just closes (reject() knows).
  auto& counts = listener_rejected_[connection->listener];
  handoff::reject(std::move(connection), 503, counts);
}

void Master::monitor() {
  last_monitor_ = std::chrono::steady_clock::now();
  for (auto& [name, app] : apps_) app->sample_usage();
  sample_own_usage();
  std::erase_if(removed_apps_, [](const std::unique_ptr<App>& a) { return a->stopped(); });
}

void Master::sample_own_usage() {
  if (!scoreboard_) return;
  if (const auto usage = platform::process_usage(0))
    scoreboard::set_master_usage(*scoreboard_->header(), usage->cpu_ms,
                                 cpu_rate_.sample(0, usage->cpu_ms, std::chrono::steady_clock::now()), usage->rss);
}

AppHooks Master::hooks_for(const AppConfig&) {
  AppHooks hooks;
  if (scoreboard_) {
    hooks.scoreboard = scoreboard_->header();
    hooks.scoreboard_name = scoreboard_->name();
    hooks.scoreboard_uid = scoreboard_uid_;
  }
  hooks.on_ready_changed = [this] { check_ready(); };
  hooks.worker_guard = worker_guard_.get();
  hooks.on_roll_end = [this](const RollReport& report) {
    if (roll_waiters_) roll_waiters_->ended(report);
  };
  hooks.on_scale_end = [this](const std::string& app, bool ok, const std::string& line) {
    if (roll_waiters_) roll_waiters_->ended(control::scale_key(app), ok, line);
  };
  hooks.master_kernel_sockets = [this] {
    std::set<std::uint64_t> inodes;
    for (const auto& [name, app] : apps_) app->kernel_sockets(inodes);
    for (const auto& app : removed_apps_) app->kernel_sockets(inodes);
    return inodes;
  };
  return hooks;
}

std::unique_ptr<App> Master::make_app(const AppConfig& app, std::size_t ipc_max_message) {
  auto made = std::make_unique<App>(&loop_, std::make_shared<const AppConfig>(app), ipc_max_message,
                                    [this] { on_app_stopped(); }, hooks_for(app));
  made->on_handback([this](ConnectionPtr c) { handed_back(std::move(c)); });
  made->on_app_metrics([this](const std::string& name, int slot, const ipc::MetricsText& m) {
    app_metrics_->answer(name, slot, m);
  });
  return made;
}

int Master::open_observability() {
  bool replaced = false;
  std::string why;
  scoreboard_ = ScoreboardHost::create(scoreboard_name(config_.control_socket), replaced, why);
  if (!scoreboard_) {
    // Serving matters more than watching: without shared memory (as under wine), the
    // supervisor runs; `status` and `top` cannot read the slots then.
    log_event("scoreboard_unavailable", {{"name", scoreboard_name(config_.control_socket)}, {"error", why}});
  }
  if (replaced) log_event("stale_scoreboard_replaced", {{"name", scoreboard_->name()}});
  // Workers running as another user may map it only if they are all that one user.
  std::optional<platform::Ids> grantee;
  if (config_.run_as.uid) {
    grantee = platform::Ids{*config_.run_as.uid, *config_.run_as.gid};
  } else {
    std::set<std::pair<std::uint32_t, std::uint32_t>> users;
    for (const auto& app : config_.apps)
      if (app.run_as.uid && *app.run_as.uid != platform::effective_uid()) users.insert({*app.run_as.uid, *app.run_as.gid});
    if (users.size() == 1) grantee = platform::Ids{users.begin()->first, users.begin()->second};
  }
  if (grantee && scoreboard_) {
    if (scoreboard_->grant(*grantee, why)) scoreboard_uid_ = grantee->uid;
    else log_line("cannot give the scoreboard to uid " + std::to_string(grantee->uid) + ": " + why);
  }

  roll_waiters_ = std::make_unique<RollWaiters>(
      &loop_, [this](const std::string& key, std::chrono::seconds waited) { return roll_progress(key, waited); });
  control_ = std::make_unique<ControlServer>(&loop_, *this);
  if (const int rc = control_->listen(config_.control_socket); rc != 0) {
    std::fprintf(stderr, "%s: control_socket: cannot listen on %s: %s\n", config_.file.c_str(),
                 config_.control_socket.c_str(), uv_strerror(rc));
    return 2;
  }
  log_event("control_socket", {{"path", config_.control_socket},
                               {"scoreboard", scoreboard_ ? scoreboard_->name() : "none"},
                               {"access", control_->access()},
                               {"scoreboard_access", scoreboard_ ? scoreboard_->access() : "none"}});

  if (config_.admin.enabled) {
    admin_ = std::make_unique<AdminServer>(&loop_, *this);
    if (const int rc = admin_->listen(config_.admin.host, config_.admin.port); rc != 0) {
      const ConfigError error{config_.file, config_.admin.where, "admin",
                              "cannot listen on " + address_text(config_.admin.host, config_.admin.port) + ": " +
                                  uv_strerror(rc)};
      std::fprintf(stderr, "%s\n", error.to_string().c_str());
      return 2;
    }
    log_event("admin_listening", {{"address", address_text(config_.admin.host, config_.admin.port)}});
  }
  return 0;
}

int Master::run() {
  if (const auto error = set_log_file(config_.log_file); !error.empty()) {
    std::fprintf(stderr, "%s: log_file: %s\n", config_.file.c_str(), error.c_str());
    return 2;
  }
  log_event("start", {{"pid", uv_os_getpid()}, {"config", config_path_}});
  started_ms_ = unix_ms();
  if (const int marked = platform::close_inherited_on_exec(); marked > 0)
    log_event("inherited_descriptors", {{"count", marked}, {"action", "close-on-exec"}});
  check_descriptor_limit();
  {
    // As the user the master becomes (`user:`): it can kill the workers' groups, no more.
    std::optional<platform::Ids> as;
    if (config_.run_as.uid) as = platform::Ids{*config_.run_as.uid, *config_.run_as.gid};
    std::string why;
    worker_guard_ = platform::start_worker_guard(&loop_, as, why);
    if (!worker_guard_) log_event("worker_guard_unavailable", {{"error", why}});
  }
  last_monitor_ = std::chrono::steady_clock::now();
  // Taken first: the variables must be gone before the apps copy the environment.
  auto inherited = platform::take_inherited_listeners();
  if (const int rc = open_observability(); rc != 0) return rc;

  for (const auto& app_config : config_.apps) apps_[app_config.name] = make_app(app_config, config_.ipc_max_message);
  wire_listeners();

  auto cannot_listen = [this](std::size_t i, int rc) {
    const auto& lc = config_.listeners[i];
    const ConfigError error{config_.file, lc.where, "listeners[" + std::to_string(i) + "].address",
                            "cannot listen on " + lc.host + ":" + std::to_string(lc.port) + ": " + uv_strerror(rc)};
    std::fprintf(stderr, "%s\n", error.to_string().c_str());
    return 2;
  };
  for (std::size_t i = 0; i < config_.listeners.size(); ++i) {
    const auto& lc = config_.listeners[i];
    if (lc.is_httpsys()) {
      // No socket: each slot of its apps binds its own prefix to its own queue (slot.cpp).
      log_event("listening", {{"listener", lc.name}, {"httpsys", lc.httpsys}});
      continue;
    }
    auto listener = std::make_unique<Listener>();
    if (kernel_dispatched(config_, lc.name)) {
      // Held, not listened on: the address is the master's, its slots' sockets accept.
      int rc = 0;
      const std::intptr_t held = platform::open_reuseport_socket(lc.host, lc.port, false, lc.backlog, rc);
      if (held >= 0) rc = listener->hold(&loop_, lc, held);
      if (rc != 0) return cannot_listen(i, rc);
      log_event("listening", {{"listener", lc.name}, {"address", lc.host + ":" + std::to_string(lc.port)},
                              {"dispatch", "kernel"}});
      ports_[i].listener = std::move(listener);
      continue;
    }
    std::optional<std::intptr_t> fd;
    for (auto& socket : inherited)
      if (socket.fd >= 0 && socket.port == lc.port && socket.host == lc.host) fd = std::exchange(socket.fd, -1);
    const int rc = listener->open(&loop_, lc, [this, i](ConnectionPtr&& c) { accept(i, std::move(c)); }, fd);
    if (rc != 0) return cannot_listen(i, rc);
    log_event("listening", {{"listener", lc.name}, {"address", lc.host + ":" + std::to_string(lc.port)},
                            {"from", fd ? "LISTEN_FDS" : "bind"}});
    // Where the head is read, accept only once it has begun to arrive.
    if (ports_[i].classify) platform::accept_when_data_arrives(platform::socket_of(listener->handle()));
    ports_[i].listener = std::move(listener);
  }
  for (const auto& socket : inherited)
    if (socket.fd >= 0) {
      log_line("LISTEN_FDS passed a socket on " + address_text(socket.host, socket.port) +
               " that no listener in the config names; closed it");
      platform::close_inherited(socket.fd);
    }

  // The slots' sockets join their listener's group as the user that bound it.
  for (auto& [name, app] : apps_) app->open_kernel_queues();

  if (config_.run_as.uid) {
    std::string why;
    // The socket file stays ours to serve and to remove after we become that user.
    if (!platform::give_file(config_.control_socket, {*config_.run_as.uid, *config_.run_as.gid}, why))
      log_line("cannot give the control socket to " + config_.run_as.user + ": " + why);
    control_->allow_uid(*config_.run_as.uid);
    if (!platform::drop_privileges({*config_.run_as.uid, *config_.run_as.gid}, why)) {
      std::fprintf(stderr, "%s: user: cannot become \"%s\": %s\n", config_.file.c_str(), config_.run_as.user.c_str(),
                   why.c_str());
      return 2;
    }
    log_event("privileges_dropped", {{"user", config_.run_as.user}});
  }

  for (const auto& binding : platform::supervisor_signals()) {
    auto handle = UvHandle<uv_signal_t>::make();
    uv_signal_init(&loop_, handle.get());
    handle.mark_initialized();
    handle->data = this;
    const auto action = binding.action;
    auto on_signal = [](uv_signal_t* s, int) {
      auto* me = static_cast<Master*>(s->data);
      if (!me) return;
      me->on_signal(s);
    };
    uv_signal_start(handle.get(), on_signal, binding.signum);
    signal_actions_.emplace_back(handle.get(), action);
    signals_.push_back(std::move(handle));
  }
  monitor_ = Timer(&loop_);
  monitor_.start<&Master::monitor>(this, kMonitorEveryMs, kMonitorEveryMs);
  monitor_.unref();  // never the reason the loop keeps running
  start_watchdog();

  for (auto& [name, app] : apps_) app->start();
  listening_ = true;
  check_ready();
  uv_run(&loop_, UV_RUN_DEFAULT);
  log_event("stopped", {{"exit_code", exit_code_}});
  return exit_code_;
}

void Master::on_signal(uv_signal_t* handle) {
  for (const auto& [h, action] : signal_actions_)
    if (h == handle) {
      if (action == platform::SignalAction::reopen_logs) return reopen_log_file();
      return action == platform::SignalAction::reload ? (void)reload(false) : shutdown();
    }
}

std::string Master::reload(bool config_only, control::RollWait* wait) {
  if (shutting_down_) return "shutting down";
  const auto monotonic_us =
      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
  platform::notify_service_manager("RELOADING=1\nMONOTONIC_USEC=" + std::to_string(monotonic_us));
  reloading_ = true;
  struct Done {
    Master* m;
    ~Done() {
      m->reloading_ = false;
      // The roll goes on in the background; systemd only waits for the config to be taken.
      if (m->notified_ready_) platform::notify_service_manager("READY=1");
      else m->check_ready();
    }
  } done{this};
  log_event("reload", {{"config", config_path_}, {"roll", config_only ? "changed" : "all"}});
  auto refuse = [](const ConfigErrors& errors) {
    std::string text;
    for (const auto& e : errors) {
      log_event("reload_failed", {{"error", e.to_string()}});
      text += e.to_string() + "\n";
    }
    log_event("reload_failed", {{"reason", "invalid config; still running the previous one"}});
    return text + "invalid config; still running the previous one";
  };
  auto loaded = load_config(config_path_, real_host());
  if (auto* errors = std::get_if<ConfigErrors>(&loaded)) return refuse(*errors);
  auto next = std::get<Config>(std::move(loaded));
  if (auto problems = check_environment(next, real_host()); !problems.empty()) return refuse(problems);
  if (const auto listener = dispatch_changed(config_, next); !listener.empty()) {
    log_event("reload_failed",
              {{"reason", "dispatch on listener " + listener + " changed; restart the supervisor to change it"}});
    return "the dispatch on listener \"" + listener + "\" changed (kernel/master); restart the supervisor to change "
           "it (still running the previous config)";
  }
  if (!same_listeners(config_, next)) {
    log_event("reload_failed", {{"reason", "listeners changed; restart the supervisor to change listeners"}});
    return "listeners changed; restart the supervisor to change listeners (still running the previous config)";
  }
  if (next.control_socket != config_.control_socket || next.admin.enabled != config_.admin.enabled ||
      next.admin.host != config_.admin.host || next.admin.port != config_.admin.port)
    log_line("control_socket and admin changes take effect at the next start; kept the current ones");
  next.control_socket = config_.control_socket;
  next.admin = config_.admin;
  // What the SDK workers of the apps that stay check their keep-alive requests against.
  std::map<std::string, ipc::Route> routes_before;
  for (const auto& [name, app] : apps_) routes_before.emplace(name, app->route_message());
  // Apps that are gone drain away; new ones start; the others reconfigure in place.
  for (auto it = apps_.begin(); it != apps_.end();) {
    const bool kept = std::any_of(next.apps.begin(), next.apps.end(), [&](const AppConfig& a) { return a.name == it->first; });
    if (kept) {
      ++it;
      continue;
    }
    log_event("app_removed", {{"app", it->first}});
    it->second->stop(it->second->config().lifecycle.drain_timeout);
    if (wait) wait->add(RollReport::of(it->first, RollReport::Outcome::removed));
    removed_apps_.push_back(std::move(it->second));
    it = apps_.erase(it);
  }
  for (const auto& app_config : next.apps) {
    auto shared = std::make_shared<const AppConfig>(app_config);
    if (auto it = apps_.find(app_config.name); it != apps_.end()) {
      App& app = *it->second;
      const auto slots_before = app.slot_count();
      const bool rolls = app.reconfigure(shared, !config_only);
      if (wait) expect_roll(*wait, app, rolls);
      if (wait && app.slot_count() != slots_before) expect_scale(*wait, app);
    } else {
      log_event("app_added", {{"app", app_config.name}});
      auto app = make_app(app_config, next.ipc_max_message);
      App* raw = app.get();
      apps_[app_config.name] = std::move(app);
      raw->open_kernel_queues();
      raw->start();
      if (wait) wait->add(RollReport::of(app_config.name, RollReport::Outcome::added, raw->slot_count()));
    }
  }
  config_ = std::move(next);
  set_log_format(config_.log_format);
  if (const auto error = set_log_file(config_.log_file); !error.empty()) log_event("log_file_failed", {{"error", error}});
  wire_listeners();
  // A changed rule, shared-port prefixes (the listeners just set them) or slot count
  // applies to the connections the workers hold now, not only to their next ones.
  for (const auto& [name, app] : apps_)
    if (auto it = routes_before.find(name); it != routes_before.end() && !(it->second == app->route_message()))
      app->announce_route();
  return {};
}

void Master::shutdown() {
  if (shutting_down_) {
    log_event("shutdown_now", {{"reason", "second signal"}});
    for (auto& [name, app] : apps_) app->kill_all();
    for (auto& app : removed_apps_) app->kill_all();
    exit_code_ = 1;
    uv_stop(&loop_);
    return;
  }
  shutting_down_ = true;
  platform::notify_service_manager("STOPPING=1");
  // No new connections from now on; those whose head is being read are closed. Logged
  // after: a reader of the line finds the listeners closed.
  for (auto& port : ports_) {
    port.listener.reset();
    port.classifier.reset();
  }
  log_event("shutdown", {{"timeout", std::to_string(config_.shutdown_timeout.count()) + "ms"}});
  for (auto& [name, app] : apps_) app->stop(config_.shutdown_timeout);
  for (auto& app : removed_apps_) app->stop(config_.shutdown_timeout);
  on_app_stopped();  // all may be stopped already
}

void Master::on_app_stopped() {
  if (!shutting_down_) return;
  for (const auto* list : {&removed_apps_})
    for (const auto& app : *list)
      if (!app->stopped()) return;
  for (const auto& [name, app] : apps_)
    if (!app->stopped()) return;
  // Everything is down: release the remaining handles so uv_run returns.
  signals_.clear();
  signal_actions_.clear();
  monitor_.reset();
  watchdog_.reset();
  if (admin_) admin_->close();
  uv_stop(&loop_);
}

void Master::check_descriptor_limit() {
  const auto limit = platform::raise_descriptor_limit();
  if (!limit) return;
  log_event("descriptor_limit", {{"soft", limit->now}, {"hard", limit->hard},
                                 {"was", limit->before}});
  const auto needed = descriptors_needed(config_);
  if (needed > limit->now)
    log_event("descriptor_limit_low",
              {{"needed", needed}, {"limit", limit->now},
               {"hint", "lower max_classifying or queue.max, or raise the hard limit (LimitNOFILE=, ulimit -Hn)"}});
}

// ---- systemd --------------------------------------------------------------------------

void Master::start_watchdog() {
  const auto interval = platform::watchdog_interval();
  if (!interval) return;
  // Twice per interval, as sd_watchdog_enabled(3) advises; from the loop, so a stuck
  // loop stops the pings and systemd restarts us.
  const auto every = static_cast<std::uint64_t>(std::max<std::int64_t>(1, interval->count() / 2000));
  watchdog_ = Timer(&loop_);
  watchdog_.start<[](Master&) { platform::notify_service_manager("WATCHDOG=1"); }>(this, 0, every);
  watchdog_.unref();
  log_event("watchdog", {{"interval_ms", interval->count() / 1000}});
}

bool Master::all_ready(std::string& detail) const {
  if (shutting_down_) {
    detail = "shutting down";
    return false;
  }
  if (!listening_) {
    detail = "starting";
    return false;
  }
  for (const auto& [name, app] : apps_) {
    const int ready = app->ready_workers();
    if (ready < app->config().min_ready) {
      detail = "app " + name + ": " + std::to_string(ready) + " of " + std::to_string(app->config().min_ready) +
               " workers ready";
      return false;
    }
  }
  return true;
}

void Master::check_ready() {
  std::string detail;
  if (notified_ready_ || reloading_ || !all_ready(detail)) return;
  notified_ready_ = true;
  log_event("cluster_ready", {});
  platform::notify_service_manager("READY=1\nSTATUS=serving");
}

// ---- Status, control, admin -----------------------------------------------------------

std::vector<scoreboard::Snapshot> Master::snapshot() const {
  if (!scoreboard_) return {};
  return scoreboard::read_all(*scoreboard_->header());
}

StatusInput Master::status_input() const {
  if (scoreboard_) return read_status(*scoreboard_->header(), unix_ms());
  return {platform::current_pid(), started_ms_, unix_ms(), {}, {std::string(build::kVersion), std::string(build::kCommit)}, {}};
}

std::string Master::status_text() { return status_json(status_input()).dump(); }

std::string Master::metrics_text() {
  MetricsInput in;
  in.master_started_ms = started_ms_;
  in.slots = snapshot();
  for (const auto& [name, app] : apps_) in.apps.push_back(app->metrics());
  in.listener_rejected = listener_rejected_;
  // The process_* metrics of the Prometheus client libraries, read now, as they do.
  if (const auto usage = platform::process_usage(0)) {
    in.process.cpu_seconds = static_cast<double>(usage->cpu_ms) / 1000.0;
    in.process.resident_memory_bytes = usage->rss;
    if (usage->virtual_bytes) in.process.virtual_memory_bytes = usage->virtual_bytes;
  }
  in.process.open_fds = static_cast<std::uint64_t>(platform::open_descriptor_count());
  in.process.max_fds = platform::descriptor_limit();
  return render_metrics(in);
}

// The master's own metrics are rendered when the workers' answers are in (or late).
void Master::metrics_async(std::function<void(std::string)> done) {
  app_metrics_->scrape(apps_, [this] { return metrics_text(); }, std::move(done));
}

bool Master::healthy(std::string& detail) {
  const auto late = std::chrono::steady_clock::now() - last_monitor_;
  if (late < kMonitorLate) return true;
  detail = "the master's loop is " +
           std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(late).count()) + " ms behind";
  return false;
}

bool Master::ready(std::string& detail) { return all_ready(detail); }

control::Reply Master::purge_cache(const std::string& app_name, const std::string& prefix) {
  std::string message;
  bool any = false;
  bool ok = true;
  for (auto& [name, app] : apps_) {
    if (!app_name.empty() && name != app_name) continue;
    if (app->kernel_cache()) {
      // HTTP.SYS mode: the responses are in HTTP.SYS's kernel cache, not the master's.
      std::string text;
      ok = app->flush_kernel_cache(prefix, text) && ok;
      message += (message.empty() ? "" : "\n") + name + ": " + text;
      log_event("cache_purged", {{"app", name}, {"prefix", prefix}, {"kernel", true}, {"detail", text}});
      any = true;
      continue;
    }
    if (!app->cache()) {
      if (!app_name.empty()) return control::Reply{false, "app \"" + name + "\" has no cache", {}};
      continue;
    }
    const std::size_t n = app->cache()->purge(prefix);
    message += (message.empty() ? "" : "\n") + name + ": " + std::to_string(n) + (n == 1 ? " entry" : " entries") +
               " purged";
    log_event("cache_purged", {{"app", name}, {"prefix", prefix}, {"entries", n}});
    any = true;
  }
  if (!any && !app_name.empty() && !apps_.contains(app_name))
    return control::Reply{false, "no app named \"" + app_name + "\"", {}};
  if (!any) return control::Reply{false, "no app has a cache", {}};
  return control::Reply{ok, message, {}};
}

std::optional<control::Reply> Master::handle(const control::Request& request, std::function<void()>& after,
                                             const Later& later) {
  switch (request.command) {
    case control::Command::status:
      return control::Reply{true, {}, status_json(status_input())};
    case control::Command::reload:
      if (shutting_down_) return control::Reply{false, "shutting down", {}};
      if (request.wait) return roll_command(request, later);
      after = [this, config_only = request.config_only] { reload(config_only); };
      return control::Reply{true, "reloading " + config_path_, {}};
    case control::Command::restart:
      if (shutting_down_) return control::Reply{false, "shutting down", {}};
      if (request.wait) return roll_command(request, later);
      if (!apps_.contains(request.app)) return roll_command(request, later);  // the refusal
      after = [this, app = request.app] {
        if (auto it = apps_.find(app); it != apps_.end()) it->second->restart();
      };
      return control::Reply{true, "restarting " + request.app, {}};
    case control::Command::stop:
      after = [this] { shutdown(); };
      return control::Reply{true, shutting_down_ ? "stopping now (second stop)" : "stopping", {}};
    case control::Command::scale: {
      if (shutting_down_) return control::Reply{false, "shutting down", {}};
      auto it = apps_.find(request.app);
      if (it == apps_.end()) {
        std::string names;
        for (const auto& [name, app] : apps_) names += (names.empty() ? "" : ", ") + name;
        return control::Reply{false, "no app named \"" + request.app + "\" (apps: " + names + ")", {}};
      }
      return scale_command(*it->second, request, later);
    }
    case control::Command::logs:  // with follow, the control server streams the lines after this
      return control::Reply{true, {}, {}, log_file_config().path};
    case control::Command::cache_purge: return purge_cache(request.app, request.prefix);
  }
  return control::Reply{false, "unknown command", {}};
}

}  // namespace handoff
