// The apps' own metrics merged into the master's /metrics (supervisor/core/observe/app_metrics.h).
#include <doctest/doctest.h>

#include <string>

#include "supervisor/core/observe/app_metrics.h"

using handoff::AppMetricsAnswer;
using handoff::merge_app_metrics;

namespace {

AppMetricsAnswer up(std::string app, int slot, std::string text, bool sum = false) {
  return {std::move(app), slot, true, "", std::move(text), sum};
}

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

std::size_t count(const std::string& text, const std::string& part) {
  std::size_t n = 0;
  for (auto at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) ++n;
  return n;
}

const std::string kCounter =
    "# HELP hits_total Hits.\n# TYPE hits_total counter\nhits_total{path=\"/a\"} 3\nhits_total 1\n";

}  // namespace

TEST_CASE("app metrics: every sample gets app and slot, HELP and TYPE come once") {
  const auto m = merge_app_metrics({up("web", 1, kCounter), up("web", 2, kCounter)});
  CHECK(m.problems.empty());
  CHECK(has(m.text, "hits_total{app=\"web\",slot=\"1\",path=\"/a\"} 3\n"));
  CHECK(has(m.text, "hits_total{app=\"web\",slot=\"2\"} 1\n"));
  CHECK(count(m.text, "# HELP hits_total Hits.\n") == 1);
  CHECK(count(m.text, "# TYPE hits_total counter\n") == 1);
  CHECK(has(m.text, "handoff_app_metrics_up{app=\"web\",slot=\"1\"} 1\n"));
  CHECK(has(m.text, "handoff_app_metrics_up{app=\"web\",slot=\"2\"} 1\n"));
}

TEST_CASE("app metrics: the app's name is escaped, the workers' label values kept as written") {
  const auto m = merge_app_metrics({up("we\"b\\", 1, "x{msg=\"a \\\"q\\\" \\\\ \\n\"} 1\n")});
  CHECK(has(m.text, "x{app=\"we\\\"b\\\\\",slot=\"1\",msg=\"a \\\"q\\\" \\\\ \\n\"} 1\n"));
}

TEST_CASE("app metrics: a sample's own slot and app become exported_slot and exported_app") {
  const auto m = merge_app_metrics({up("web", 3, "jobs{slot=\"7\",app=\"x\"} 2\n")});
  CHECK(has(m.text, "jobs{app=\"web\",slot=\"3\",exported_slot=\"7\",exported_app=\"x\"} 2\n"));
}

TEST_CASE("app metrics: a family whose TYPE differs between workers is dropped and reported") {
  const auto m = merge_app_metrics({up("web", 1, "# TYPE q gauge\nq 1\nok 1\n"), up("web", 2, "# TYPE q counter\nq 2\n")});
  CHECK_FALSE(has(m.text, "q{"));
  CHECK_FALSE(has(m.text, "TYPE q "));
  CHECK(has(m.text, "ok{app=\"web\",slot=\"1\"} 1\n"));
  REQUIRE(m.problems.size() == 1);
  CHECK(has(m.problems[0], "family q dropped"));
}

TEST_CASE("app metrics: names in the master's handoff_ namespace are dropped") {
  const auto m = merge_app_metrics({up("web", 1, "# TYPE handoff_requests_total counter\nhandoff_requests_total 5\n")});
  CHECK_FALSE(has(m.text, "handoff_requests_total"));
  REQUIRE(m.problems.size() == 1);
  CHECK(has(m.problems[0], "handoff_"));
}

TEST_CASE("app metrics: sum mode adds the slots up under the app label alone") {
  const auto m = merge_app_metrics({up("api", 1, kCounter, true), up("api", 2, kCounter, true)});
  CHECK(has(m.text, "hits_total{app=\"api\",path=\"/a\"} 6\n"));
  CHECK(has(m.text, "hits_total{app=\"api\"} 2\n"));
  CHECK_FALSE(has(m.text, "hits_total{app=\"api\",slot="));
  CHECK(has(m.text, "handoff_app_metrics_up{app=\"api\",slot=\"2\"} 1\n"));  // still per worker
}

TEST_CASE("app metrics: histograms keep their buckets in one family, labelled or summed") {
  const std::string h =
      "# HELP lat Latency.\n# TYPE lat histogram\nlat_bucket{le=\"0.1\"} 1\nlat_bucket{le=\"+Inf\"} 2\n"
      "lat_sum 0.25\nlat_count 2\n";
  const auto labelled = merge_app_metrics({up("web", 1, h), up("web", 2, h)});
  CHECK(count(labelled.text, "# TYPE lat histogram\n") == 1);
  CHECK(has(labelled.text, "lat_bucket{app=\"web\",slot=\"2\",le=\"+Inf\"} 2\n"));
  CHECK_FALSE(has(labelled.text, "TYPE lat_bucket"));
  const auto summed = merge_app_metrics({up("web", 1, h, true), up("web", 2, h, true)});
  CHECK(has(summed.text, "lat_bucket{app=\"web\",le=\"0.1\"} 2\n"));
  CHECK(has(summed.text, "lat_bucket{app=\"web\",le=\"+Inf\"} 4\n"));
  CHECK(has(summed.text, "lat_sum{app=\"web\"} 0.5\n"));
  CHECK(has(summed.text, "lat_count{app=\"web\"} 4\n"));
}

TEST_CASE("app metrics: a summary's quantiles are not summed, its sum and count are") {
  const std::string s = "# TYPE d summary\nd{quantile=\"0.5\"} 1\nd_sum 3\nd_count 2\n";
  const auto m = merge_app_metrics({up("w", 1, s, true), up("w", 2, s, true)});
  CHECK_FALSE(has(m.text, "quantile"));
  CHECK(has(m.text, "d_count{app=\"w\"} 4\n"));
}

TEST_CASE("app metrics: nothing asked, nothing shown; a worker that did not answer is up 0") {
  CHECK(merge_app_metrics({}).text.empty());
  const auto m = merge_app_metrics({up("web", 1, ""), {"web", 2, false, "timeout", "", false}});
  CHECK(has(m.text, "# TYPE handoff_app_metrics_up gauge\n"));
  CHECK(has(m.text, "handoff_app_metrics_up{app=\"web\",slot=\"1\"} 1\n"));
  CHECK(has(m.text, "handoff_app_metrics_up{app=\"web\",slot=\"2\"} 0\n"));
}

TEST_CASE("app metrics: unreadable lines are skipped and counted, the rest is kept") {
  const auto m = merge_app_metrics(
      {up("web", 1, "not a metric line at all {\nx{a=\"unterminated} 1\n9bad 1\ngood 4 1700000000000\n# just a comment\n")});
  CHECK(has(m.text, "good{app=\"web\",slot=\"1\"} 4 1700000000000\n"));
  REQUIRE(m.problems.size() == 1);
  CHECK(has(m.problems[0], "3 unreadable"));
}

TEST_CASE("app metrics: the master's own families come first and a worker's family of the same name joins them") {
  const std::string own =
      "# HELP process_cpu_seconds_total Total user and system CPU time spent in seconds.\n"
      "# TYPE process_cpu_seconds_total counter\nprocess_cpu_seconds_total 1.5\n"
      "# HELP process_open_fds Number of open file descriptors.\n# TYPE process_open_fds gauge\nprocess_open_fds 12\n"
      "# HELP handoff_build_info Build.\n# TYPE handoff_build_info gauge\nhandoff_build_info{version=\"1\"} 1\n";
  const std::string worker =
      "# HELP process_cpu_seconds_total Total user and system CPU time spent in seconds.\n"
      "# TYPE process_cpu_seconds_total counter\nprocess_cpu_seconds_total 0.25\n"
      "# HELP process_open_fds Open fds.\n# TYPE process_open_fds counter\nprocess_open_fds 30\n"
      "# TYPE handoff_build_info gauge\nhandoff_build_info{version=\"evil\"} 1\n";
  const auto m = merge_app_metrics({up("web", 1, worker), up("web", 2, worker)}, own);
  // The master's exposition first, as it was.
  CHECK(m.text.find(own.substr(0, own.find("# HELP process_open_fds"))) == 0);
  CHECK(count(m.text, "# HELP process_cpu_seconds_total") == 1);
  CHECK(has(m.text, "process_cpu_seconds_total 1.5\nprocess_cpu_seconds_total{app=\"web\",slot=\"1\"} 0.25\n"
                    "process_cpu_seconds_total{app=\"web\",slot=\"2\"} 0.25\n"));
  // A TYPE of its own, or the master's namespace: the worker's family is left out, the master's kept.
  CHECK(has(m.text, "process_open_fds 12\n"));
  CHECK(!has(m.text, "process_open_fds{"));
  CHECK(has(m.text, "handoff_build_info{version=\"1\"} 1\n"));
  CHECK(!has(m.text, "evil"));
  CHECK(m.problems.size() == 4);  // two families, two workers
  // No worker to ask: the master's own, unchanged.
  CHECK(merge_app_metrics({}, own).text == own);
}
