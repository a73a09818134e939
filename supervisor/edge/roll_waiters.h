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
  // `progress`: where the roll of an app still pending is, when the time is up.
  RollWaiters(uv_loop_t* loop, std::function<RollReport(const std::string& app)> progress)
      : loop_(loop), progress_(std::move(progress)) {}

  // The reply now if nothing is pending; else nullopt, and `answer` gets it once every
  // roll ended or after `bound`.
  std::optional<control::Reply> wait(control::RollWait wait, ControlServer::Handler::Later answer,
                                     std::chrono::milliseconds bound);
  // A roll ended: the commands waiting for it take it, and those now complete answer.
  void ended(const RollReport& report);
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
  std::function<RollReport(const std::string&)> progress_;
  std::list<std::unique_ptr<Waiting>> waiting_;
};

}  // namespace handoff
