// One /metrics scrape of the apps' own metrics: the master has sent `metrics` to every
// ready worker that offers them; this collects their `metrics_text` answers and finishes
// once all answered or kAppMetricsTimeout passed, whichever comes first. A worker that
// did not answer in time is reported down, so a slow or stuck worker costs a scrape at
// most kAppMetricsTimeout and never blocks the master's own metrics. libuv edge.
#pragma once

#include <uv.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "protocols/ipc_messages.h"
#include "supervisor/core/observe/app_metrics.h"
#include "uvglue/timer.h"

namespace handoff {

// How long a scrape waits for the workers' answers.
inline constexpr std::chrono::milliseconds kAppMetricsTimeout{1000};
// A longer answer counts as down (the channel's ipc_max_message usually stops it first).
inline constexpr std::size_t kAppMetricsMaxBytes = 4u << 20;

class AppMetricsScrape {
 public:
  // The answers in the order asked; down ones carry their reason.
  using Done = std::function<void(const std::vector<AppMetricsAnswer>& answers)>;

  // `asked`: app and slot of each worker sent a `metrics` with this id. Done runs once,
  // at once if nobody was asked.
  AppMetricsScrape(uv_loop_t* loop, std::uint64_t id, std::vector<AppMetricsAnswer> asked, Done done);

  std::uint64_t id() const { return id_; }
  bool finished() const { return finished_; }
  // A `metrics_text` from a worker of `app` at `slot`: ignored unless this scrape asked it.
  void answer(const std::string& app, int slot, const ipc::MetricsText& message);

 private:
  void finish();

  std::uint64_t id_;
  std::vector<AppMetricsAnswer> answers_;
  std::size_t waiting_ = 0;
  Done done_;
  Timer timer_;
  bool finished_ = false;
};

class App;

// The master's scrapes in progress (a scrape per /metrics request), and where the
// workers' answers go. Logs each worker that did not answer and each merge problem.
class AppMetricsScrapes {
 public:
  explicit AppMetricsScrapes(uv_loop_t* loop) : loop_(loop) {}
  // Asks the workers of `apps` (none offers metrics: answered at once).
  // `own` gives the master's own metrics when the answers are in; `done` gets the whole page.
  void scrape(const std::map<std::string, std::unique_ptr<App>>& apps, std::function<std::string()> own,
              std::function<void(std::string)> done);
  void answer(const std::string& app, int slot, const ipc::MetricsText& message);

 private:
  uv_loop_t* loop_;
  std::uint64_t next_id_ = 1;
  std::vector<std::unique_ptr<AppMetricsScrape>> scrapes_;  // finished ones freed at the next scrape
};

}  // namespace handoff
