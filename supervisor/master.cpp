#include "supervisor/master.h"

#include <csignal>

#include "supervisor/config_error.h"
#include "supervisor/log.h"

namespace handoff {

Master::Master(Config config) : config_(std::move(config)) { uv_loop_init(&loop_); }

Master::~Master() {
  // Close every handle we still own, let libuv run their close callbacks, then the loop.
  listeners_.clear();
  apps_.clear();
  signals_.clear();
  stop_timer_.reset();
  uv_run(&loop_, UV_RUN_DEFAULT);
  uv_loop_close(&loop_);
}

int Master::run() {
  for (auto& app_config : config_.apps)
    apps_.push_back(std::make_unique<App>(&loop_, app_config, config_, [this] { on_app_stopped(); }));

  for (std::size_t i = 0; i < config_.listeners.size(); ++i) {
    const auto& lc = config_.listeners[i];
    App* owner = nullptr;
    for (auto& app : apps_)
      for (const auto& name : app->config().listeners)
        if (name == lc.name) owner = app.get();
    auto listener = std::make_unique<Listener>();
    const int rc = listener->open(&loop_, lc, [owner](ConnectionPtr c) { owner->dispatch(std::move(c)); });
    if (rc != 0) {
      const ConfigError error{config_.file, lc.where, "listeners[" + std::to_string(i) + "].address",
                              "cannot listen on " + lc.host + ":" + std::to_string(lc.port) + ": " + uv_strerror(rc)};
      std::fprintf(stderr, "%s\n", error.to_string().c_str());
      return 2;
    }
    log_line("listening on " + lc.host + ":" + std::to_string(lc.port) + " (listener \"" + lc.name + "\")");
    listeners_.push_back(std::move(listener));
  }

  for (int signum : {SIGINT, SIGTERM, SIGHUP}) {
    auto handle = UvHandle<uv_signal_t>::make();
    uv_signal_init(&loop_, handle.get());
    handle.mark_initialized();
    handle->data = this;
    uv_signal_start(
        handle.get(),
        [](uv_signal_t* s, int num) {
          auto* me = static_cast<Master*>(s->data);
          if (!me) return;
          if (num == SIGHUP) {
            log_line("SIGHUP: reloading is not implemented yet; ignored");
            return;
          }
          me->shutdown();
        },
        signum);
    signals_.push_back(std::move(handle));
  }

  for (auto& app : apps_) app->start();
  uv_run(&loop_, UV_RUN_DEFAULT);
  log_line("stopped");
  return 0;
}

void Master::shutdown() {
  if (shutting_down_) {
    log_line("second stop signal: killing the workers");
    for (auto& app : apps_) app->kill();
    return;
  }
  shutting_down_ = true;
  log_line("shutting down: no new connections, stopping the workers");
  listeners_.clear();
  stop_timer_ = UvHandle<uv_timer_t>::make();
  uv_timer_init(&loop_, stop_timer_.get());
  stop_timer_.mark_initialized();
  stop_timer_->data = this;
  uv_timer_start(
      stop_timer_.get(),
      [](uv_timer_t* t) {
        auto* me = static_cast<Master*>(t->data);
        if (!me) return;
        log_line("workers still running after " + std::to_string(kStopTimeoutMs) + " ms: killing them");
        for (auto& app : me->apps_) app->kill();
      },
      kStopTimeoutMs, 0);
  for (auto& app : apps_) app->stop();
  on_app_stopped();  // all may be stopped already
}

void Master::on_app_stopped() {
  if (!shutting_down_) return;
  for (auto& app : apps_)
    if (!app->stopped()) return;
  // Everything is down: release the remaining handles so uv_run returns.
  signals_.clear();
  stop_timer_.reset();
  uv_stop(&loop_);
}

}  // namespace handoff
