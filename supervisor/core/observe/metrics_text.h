// /metrics in the Prometheus text exposition format (version 0.0.4). Pure: per-slot
// numbers come from the scoreboard, per-app ones from the master's counters.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "protocols/scoreboard.h"
#include "supervisor/core/cache/output_cache.h"
#include "supervisor/core/observe/histogram.h"
#include "supervisor/core/restart_reason.h"

namespace handoff {

// The statuses the master answers itself instead of handing a connection over: 503
// (no worker: queue full, queue timeout, `reject`), and from the request-head
// classifier 408 (head timeout), 431 (head too large), 400 (malformed head). These are
// always shown; others (404 for a path no app claims, a plugin's choice) once counted.
inline constexpr int kRejectionStatuses[] = {400, 408, 431, 503};

struct AppMetrics {
  std::string name;
  std::map<int, std::uint64_t> rejected;  // by status; every kRejectionStatuses entry is shown
  Histogram handoff_latency;              // accept to the worker's ACK, in seconds
  Histogram queue_wait;                   // time in its slot's queue before it was sent, in seconds
  // Its workers report requests, connections and bytes (SDK workers); a plain program
  // (`ready: on_spawn`) does not, and those series are left out rather than shown at 0.
  bool worker_counters = true;
  int ready_workers = 0;
  int min_ready = 1;
  // Restarts by reason, per slot number.
  std::map<std::uint32_t, std::map<RestartReason, std::uint64_t>> restarts;
  // Kernel dispatch: its listener's name, and the listening sockets of that address that
  // are not the master's (strangers in the SO_REUSEPORT group) at the last check.
  std::optional<std::string> kernel_listener;
  std::uint64_t kernel_strangers = 0;
  // Its output cache's counters, when it has one (core/cache/output_cache.h).
  std::optional<cache::Counters> cache;
};

// The master's own process, named as the Prometheus client libraries name it.
struct ProcessMetrics {
  double cpu_seconds = 0;
  std::uint64_t resident_memory_bytes = 0;
  std::optional<std::uint64_t> virtual_memory_bytes;  // not on Windows
  std::uint64_t open_fds = 0;                         // handles on Windows
  std::optional<std::uint64_t> max_fds;               // not on Windows
};

struct MetricsInput {
  std::int64_t master_started_ms = 0;
  ProcessMetrics process;
  std::vector<scoreboard::Snapshot> slots;
  std::vector<AppMetrics> apps;
  // Rejections on a listener shared by several apps, before any app was known (a head
  // that could not be read, a path no app claims), by listener name, then by status.
  std::map<std::string, std::map<int, std::uint64_t>> listener_rejected;
};

std::string render_metrics(const MetricsInput& input);

// A label value with \, " and newline escaped as the format requires.
std::string escape_label(const std::string& value);

}  // namespace handoff
