#include "supervisor/master.h"

#include <variant>

#include "supervisor/config_error.h"
#include "supervisor/config_loader.h"
#include "supervisor/control_endpoint.h"
#include "supervisor/log.h"
#include "supervisor/platform/platform.h"

namespace handoff {
namespace {

// How often worker memory is sampled against max_rss (and retired slots are freed).
constexpr std::uint64_t kMonitorEveryMs = 1000;

bool same_listeners(const Config& a, const Config& b) {
  if (a.listeners.size() != b.listeners.size()) return false;
  for (std::size_t i = 0; i < a.listeners.size(); ++i) {
    const auto &x = a.listeners[i], &y = b.listeners[i];
    if (x.name != y.name || x.host != y.host || x.port != y.port || x.backlog != y.backlog ||
        x.proxy_protocol != y.proxy_protocol)
      return false;
  }
  return true;
}

}  // namespace

Master::Master(Config config, std::string config_path, std::string control_name)
    : config_(std::move(config)), config_path_(std::move(config_path)), control_name_(std::move(control_name)) {
  uv_loop_init(&loop_);
  set_log_format(config_.log_format);
}

Master::~Master() {
  // Close every handle we still own, let libuv run their close callbacks, then the loop.
  ports_.clear();
  apps_.clear();
  removed_apps_.clear();
  signals_.clear();
  control_.reset();
  monitor_.reset();
  uv_run(&loop_, UV_RUN_DEFAULT);
  uv_loop_close(&loop_);
}

void Master::wire_listeners() {
  ports_.resize(config_.listeners.size());
  for (std::size_t i = 0; i < config_.listeners.size(); ++i) {
    const auto& lc = config_.listeners[i];
    Port& port = ports_[i];
    port.apps.clear();
    port.prefixes = {};
    bool any_needs_head = false;
    for (const auto& [name, app] : apps_)
      for (const auto& l : app->config().listeners)
        if (l == lc.name) {
          for (const auto& prefix : app->config().routes) port.prefixes.add(prefix, port.apps.size());
          port.apps.push_back(app.get());
          any_needs_head = any_needs_head || app->needs_head();
        }
    const Classifier::Settings settings{lc.proxy_protocol, any_needs_head || !port.prefixes.empty(), lc.head_timeout,
                                        lc.max_head, lc.max_classifying};
    port.classify = settings.proxy_protocol || settings.read_head;
    if (port.classifier) port.classifier->set_settings(settings);
    else
      port.classifier = std::make_unique<Classifier>(
          &loop_, settings, [this, i](ConnectionPtr c, const RequestHead* head) { route(i, std::move(c), head); });
  }
  // Each app's workers learn which prefixes on their ports belong to others (welcome.route).
  for (auto& [name, app] : apps_) {
    std::vector<std::string> foreign;
    for (std::size_t i = 0; i < ports_.size(); ++i)
      for (std::size_t owner = 0; owner < ports_[i].apps.size(); ++owner)
        if (ports_[i].apps[owner] == app.get())
          for (auto& prefix : ports_[i].prefixes.others_of(owner))
            if (std::find(foreign.begin(), foreign.end(), prefix) == foreign.end()) foreign.push_back(std::move(prefix));
    app->set_foreign_prefixes(std::move(foreign));
  }
}

void Master::accept(std::size_t i, ConnectionPtr connection) {
  Port& port = ports_[i];
  if (port.classify) port.classifier->add(std::move(connection));
  else route(i, std::move(connection), nullptr);
}

void Master::route(std::size_t i, ConnectionPtr connection, const RequestHead* head) {
  const Port& port = ports_[i];
  App* app = nullptr;
  if (port.prefixes.empty()) {
    if (!port.apps.empty()) app = port.apps.front();
  } else if (head) {
    if (auto owner = port.prefixes.match(head->path)) app = port.apps[*owner];
  }
  if (!app) return reject(std::move(connection), 404);  // no app claims this path
  app->dispatch(std::move(connection), head);
}

void Master::handed_back(ConnectionPtr connection) {
  for (std::size_t i = 0; i < config_.listeners.size(); ++i)
    if (config_.listeners[i].name == connection->listener && i < ports_.size() && ports_[i].listener)
      return accept(i, std::move(connection));
  // Its listener is gone (shutting down): nobody can serve it any more.
  reject(std::move(connection), 503);
}

void Master::monitor() {
  for (auto& [name, app] : apps_) app->sample_rss();
  std::erase_if(removed_apps_, [](const std::unique_ptr<App>& a) { return a->stopped(); });
}

int Master::run() {
  log_event("start", {{"pid", std::to_string(uv_os_getpid())}, {"config", config_path_}});
  for (const auto& app_config : config_.apps)
    apps_[app_config.name] = make_app(app_config, config_.ipc_max_message);
  wire_listeners();

  for (std::size_t i = 0; i < config_.listeners.size(); ++i) {
    const auto& lc = config_.listeners[i];
    auto listener = std::make_unique<Listener>();
    const int rc = listener->open(&loop_, lc, [this, i](ConnectionPtr c) { accept(i, std::move(c)); });
    if (rc != 0) {
      const ConfigError error{config_.file, lc.where, "listeners[" + std::to_string(i) + "].address",
                              "cannot listen on " + lc.host + ":" + std::to_string(lc.port) + ": " + uv_strerror(rc)};
      std::fprintf(stderr, "%s\n", error.to_string().c_str());
      return 2;
    }
    log_event("listening", {{"listener", lc.name}, {"address", lc.host + ":" + std::to_string(lc.port)}});
    ports_[i].listener = std::move(listener);
  }

  if (config_.run_as.uid) {
    std::string why;
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
  if (!control_name_.empty()) {
    control_ = std::make_unique<ControlEndpoint>();
    const int rc = control_->open(&loop_, control_name_, [this](ControlCommand c) {
      if (c == ControlCommand::reload) reload();
      else if (c == ControlCommand::stop) shutdown();
    });
    if (rc != 0) {
      std::fprintf(stderr, "--control %s: cannot listen: %s\n", control_name_.c_str(), uv_strerror(rc));
      return 2;
    }
    log_event("control", {{"endpoint", control_name_}});
  }
  monitor_ = UvHandle<uv_timer_t>::make();
  uv_timer_init(&loop_, monitor_.get());
  monitor_.mark_initialized();
  monitor_->data = this;
  uv_timer_start(
      monitor_.get(),
      [](uv_timer_t* t) {
        if (auto* me = static_cast<Master*>(t->data)) me->monitor();
      },
      kMonitorEveryMs, kMonitorEveryMs);
  uv_unref(monitor_.base());  // never the reason the loop keeps running

  for (auto& [name, app] : apps_) app->start();
  uv_run(&loop_, UV_RUN_DEFAULT);
  log_event("stopped", {{"exit_code", std::to_string(exit_code_)}});
  return exit_code_;
}

std::unique_ptr<App> Master::make_app(const AppConfig& config, std::size_t ipc_max_message) {
  auto app = std::make_unique<App>(&loop_, std::make_shared<const AppConfig>(config), ipc_max_message,
                                   [this] { on_app_stopped(); });
  app->on_handback([this](ConnectionPtr c) { handed_back(std::move(c)); });
  return app;
}

void Master::on_signal(uv_signal_t* handle) {
  for (const auto& [h, action] : signal_actions_)
    if (h == handle) return action == platform::SignalAction::reload ? reload() : shutdown();
}

void Master::reload() {
  if (shutting_down_) return;
  log_event("reload", {{"config", config_path_}});
  auto refuse = [](const ConfigErrors& errors) {
    for (const auto& e : errors) log_event("reload_failed", {{"error", e.to_string()}});
    log_event("reload_failed", {{"reason", "invalid config; still running the previous one"}});
  };
  auto loaded = load_config(config_path_);
  if (auto* errors = std::get_if<ConfigErrors>(&loaded)) return refuse(*errors);
  auto next = std::get<Config>(std::move(loaded));
  if (auto problems = check_environment(next); !problems.empty()) return refuse(problems);
  if (!same_listeners(config_, next)) {
    log_event("reload_failed", {{"reason", "listeners changed; restart the supervisor to change listeners"}});
    return;
  }
  // Apps that are gone drain away; new ones start; the others reconfigure in place.
  for (auto it = apps_.begin(); it != apps_.end();) {
    const bool kept = std::any_of(next.apps.begin(), next.apps.end(), [&](const AppConfig& a) { return a.name == it->first; });
    if (kept) {
      ++it;
      continue;
    }
    log_event("app_removed", {{"app", it->first}});
    it->second->stop(it->second->config().lifecycle.drain_timeout);
    removed_apps_.push_back(std::move(it->second));
    it = apps_.erase(it);
  }
  for (const auto& app_config : next.apps) {
    auto shared = std::make_shared<const AppConfig>(app_config);
    if (auto it = apps_.find(app_config.name); it != apps_.end()) {
      it->second->reconfigure(shared);
    } else {
      log_event("app_added", {{"app", app_config.name}});
      auto app = make_app(app_config, next.ipc_max_message);
      App* raw = app.get();
      apps_[app_config.name] = std::move(app);
      raw->start();
    }
  }
  config_ = std::move(next);
  set_log_format(config_.log_format);
  wire_listeners();
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
  log_event("shutdown", {{"timeout", std::to_string(config_.shutdown_timeout.count()) + "ms"}});
  // No new connections from now on; those whose head is being read are closed.
  for (auto& port : ports_) {
    port.listener.reset();
    port.classifier.reset();
  }
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
  if (control_) control_->close();
  monitor_.reset();
  uv_stop(&loop_);
}

}  // namespace handoff
