#include "supervisor/edge/app_metrics_scrape.h"

#include <algorithm>

#include "supervisor/edge/app.h"
#include "supervisor/edge/log.h"

namespace handoff {

AppMetricsScrape::AppMetricsScrape(uv_loop_t* loop, std::uint64_t id, std::vector<AppMetricsAnswer> asked, Done done)
    : id_(id), answers_(std::move(asked)), done_(std::move(done)), timer_(loop) {
  for (auto& a : answers_) {
    a.up = false;
    a.reason = "timeout";  // until it answers
  }
  waiting_ = answers_.size();
  if (waiting_ == 0) {
    finish();
    return;
  }
  timer_.start<[](AppMetricsScrape& me) { me.finish(); }>(this, static_cast<std::uint64_t>(kAppMetricsTimeout.count()));
}

void AppMetricsScrape::answer(const std::string& app, int slot, const ipc::MetricsText& message) {
  if (finished_ || message.id != id_) return;
  for (auto& a : answers_) {
    if (a.app != app || a.slot != slot || a.reason != "timeout") continue;
    if (message.text.size() > kAppMetricsMaxBytes) {
      a.reason = "too_large";
    } else {
      a.up = true;
      a.reason.clear();
      a.text = message.text;
      a.sum = message.sum;
    }
    if (--waiting_ == 0) finish();
    return;
  }
}

void AppMetricsScrape::finish() {
  if (finished_) return;
  finished_ = true;
  timer_.stop();
  auto done = std::move(done_);
  done(answers_);
}

void AppMetricsScrapes::scrape(const std::map<std::string, std::unique_ptr<App>>& apps,
                               std::function<std::string()> own, std::function<void(std::string)> done) {
  std::erase_if(scrapes_, [](const auto& s) { return s->finished(); });
  const std::uint64_t id = next_id_++;
  std::vector<AppMetricsAnswer> asked;
  for (const auto& [name, app] : apps)
    for (const int slot : app->ask_metrics(id)) {
      AppMetricsAnswer a;
      a.app = name;
      a.slot = slot;
      asked.push_back(std::move(a));
    }
  if (asked.empty()) return done(own());
  scrapes_.push_back(std::make_unique<AppMetricsScrape>(
      loop_, id, std::move(asked), [own = std::move(own), done = std::move(done)](const std::vector<AppMetricsAnswer>& answers) {
        for (const auto& a : answers)
          if (!a.up)
            log_event("app_metrics", {{"app", a.app}, {"slot", a.slot}, {"up", 0}, {"reason", a.reason}});
        auto merged = merge_app_metrics(answers, own());
        for (const auto& problem : merged.problems) log_event("app_metrics", {{"problem", problem}});
        done(std::move(merged.text));
      }));
}

void AppMetricsScrapes::answer(const std::string& app, int slot, const ipc::MetricsText& message) {
  for (const auto& s : scrapes_)
    if (s->id() == message.id) return s->answer(app, slot, message);
}

}  // namespace handoff
