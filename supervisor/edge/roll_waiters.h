// The operator's commands waiting for rolls (`supervisor reload`, `restart APP`): each
// holds its control connection open until every roll it started has ended (the apps
// report each end: App's on_roll_end) or its time is up. Event driven: a roll's end
// answers at once; the one timer per command only bounds the wait. libuv edge around
// control::RollWait.
#pragma once

#include <uv.h>

#include <chrono>
#include <functional>
#include <list>
#include <memory>
#include <optional>
#include <string>

#include "uvglue/timer.h"

#include "supervisor/core/control/roll_wait.h"
#include "supervisor/edge/control_server.h"

namespace handoff {

class RollWaiters {
 public:
  // `progress`: the line for something still pending (a RollWait key) when the time is
  // up after `waited`.
  using Progress = std::function<std::string(const std::string& key, std::chrono::seconds waited)>;
  RollWaiters(uv_loop_t* loop, Progress progress) : loop_(loop), progress_(std::move(progress)) {}

  // The reply now if nothing is pending; else nullopt, and `answer` gets it once every
  // roll ended or after `bound`.
  std::optional<control::Reply> wait(control::RollWait wait, ControlServer::Handler::Later answer,
                                     std::chrono::milliseconds bound);
  // A roll or a scale ended: the commands waiting for it take it, and those now
  // complete answer.
  void ended(const RollReport& report) { ended(report.app, !failed(report), describe(report)); }
  void ended(const std::string& key, bool ok, const std::string& line);
  void clear() { waiting_.clear(); }

 private:
  struct Waiting {
    control::RollWait wait;
    ControlServer::Handler::Later answer;
    Timer timer;
    std::chrono::milliseconds bound{};
  };
  void time_up(Waiting* waiting);

  uv_loop_t* loop_;
  Progress progress_;
  std::list<std::unique_ptr<Waiting>> waiting_;
};

}  // namespace handoff
