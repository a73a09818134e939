// The apps' own metrics on the master's /metrics: what each worker's registry answered to
// a scrape (Prometheus text format 0.0.4), merged into one exposition. Pure.
//  - every sample gets `app` and `slot` labels (a sample's own `app` or `slot` becomes
//    `exported_app` / `exported_slot`, as Prometheus renames them);
//  - or, for an app whose workers asked for it (`sum`), samples with the same name and
//    labels are added up across slots and get the `app` label alone;
//  - HELP and TYPE once per family; a family whose TYPE differs between workers, and a
//    name in the master's own handoff_* namespace, are dropped and reported;
//  - the master's own exposition comes first, as it is; a worker's family of a name the
//    master writes too (process_cpu_seconds_total from prom-client's default metrics)
//    joins the master's group with its labelled samples when its TYPE is the same, and is
//    left out (reported) otherwise;
//  - handoff_app_metrics_up{app,slot} says which workers answered in time.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace handoff {

struct AppMetricsAnswer {
  std::string app;
  int slot = 0;
  bool up = false;     // answered in time; false: `reason` says why, `text` is empty
  std::string reason;  // "timeout", "gone"
  std::string text;
  bool sum = false;    // add this app's slots up (no `slot` label)
};

struct MergedAppMetrics {
  std::string text;                   // the whole exposition: the master's own, then the apps'
  std::vector<std::string> problems;  // one log line each (dropped families, unreadable lines)
};

MergedAppMetrics merge_app_metrics(const std::vector<AppMetricsAnswer>& answers, std::string_view own = {});

}  // namespace handoff
