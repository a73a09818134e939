#include "supervisor/core/observe/metrics_text.h"

#include "protocols/build_info.h"

#include <algorithm>
#include <cstdio>

namespace handoff {

std::string escape_label(const std::string& value) {
  std::string out;
  for (char c : value) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out.push_back(c);
  }
  return out;
}

namespace {

std::string number(double v) {
  char text[64];
  std::snprintf(text, sizeof text, "%.9g", v);
  return text;
}

// A Unix time in ms as seconds with its milliseconds (%g would round them away).
std::string unix_seconds(std::int64_t ms) {
  char text[32];
  std::snprintf(text, sizeof text, "%.3f", static_cast<double>(ms) / 1000.0);
  return text;
}

class Writer {
 public:
  void family(const char* name, const char* type, const char* help) {
    out_ += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
  }
  void sample(const std::string& name, const std::string& labels, const std::string& value) {
    out_ += name;
    if (!labels.empty()) out_ += "{" + labels + "}";
    out_ += " " + value + "\n";
  }
  void sample(const std::string& name, const std::string& labels, std::uint64_t value) {
    sample(name, labels, std::to_string(value));
  }
  std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

std::string slot_labels(const scoreboard::Snapshot& s) {
  return "app=\"" + escape_label(s.app) + "\",slot=\"" + std::to_string(s.slot) + "\"";
}

std::string app_label(const std::string& app) { return "app=\"" + escape_label(app) + "\""; }

void histogram(Writer& w, const std::string& name, const std::string& labels, const Histogram& h) {
  for (std::size_t i = 0; i < Histogram::kBounds.size(); ++i)
    w.sample(name + "_bucket", labels + ",le=\"" + number(Histogram::kBounds[i]) + "\"", h.cumulative(i));
  w.sample(name + "_bucket", labels + ",le=\"+Inf\"", h.count());
  w.sample(name + "_sum", labels, number(h.sum()));
  w.sample(name + "_count", labels, h.count());
}

void process_metrics(Writer& w, const ProcessMetrics& p, std::int64_t started_ms) {
  w.family("process_cpu_seconds_total", "counter", "Total user and system CPU time spent in seconds.");
  w.sample("process_cpu_seconds_total", "", number(p.cpu_seconds));
  w.family("process_resident_memory_bytes", "gauge", "Resident memory size in bytes.");
  w.sample("process_resident_memory_bytes", "", p.resident_memory_bytes);
  if (p.virtual_memory_bytes) {
    w.family("process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.");
    w.sample("process_virtual_memory_bytes", "", *p.virtual_memory_bytes);
  }
  w.family("process_open_fds", "gauge", "Number of open file descriptors.");
  w.sample("process_open_fds", "", p.open_fds);
  if (p.max_fds) {
    w.family("process_max_fds", "gauge", "Maximum number of open file descriptors.");
    w.sample("process_max_fds", "", *p.max_fds);
  }
  w.family("process_start_time_seconds", "gauge", "Start time of the process since unix epoch in seconds.");
  w.sample("process_start_time_seconds", "", unix_seconds(started_ms));
}

}  // namespace

std::string render_metrics(const MetricsInput& in) {
  Writer w;
  w.family("handoff_build_info", "gauge", "1, labelled with the supervisor's version and commit.");
  w.sample("handoff_build_info",
           "version=\"" + escape_label(std::string(build::kVersion)) + "\",commit=\"" +
               escape_label(std::string(build::kCommit)) + "\"",
           "1");
  w.family("handoff_master_start_time_seconds", "gauge", "Start time of the supervisor since the Unix epoch.");
  w.sample("handoff_master_start_time_seconds", "", unix_seconds(in.master_started_ms));

  process_metrics(w, in.process, in.master_started_ms);

  // A worker kind that does not report a counter has no series for it (not one stuck at 0).
  std::map<std::string, bool> counted;
  for (const auto& app : in.apps) counted[app.name] = app.worker_counters;
  const auto reports = [&](const scoreboard::Snapshot& s) {
    const auto it = counted.find(s.app);
    return it == counted.end() || it->second;
  };

  w.family("handoff_slot_state", "gauge", "1 for the state each slot is in (stopped, starting, ready, backoff, crash_loop, stopping).");
  for (const auto& s : in.slots)
    w.sample("handoff_slot_state", slot_labels(s) + ",state=\"" + std::string(to_string(s.state)) + "\"", 1);

  w.family("handoff_slot_generation", "gauge", "Generation of the slot's current worker (1 for the first, +1 per replacement).");
  for (const auto& s : in.slots) w.sample("handoff_slot_generation", slot_labels(s), s.generation);

  w.family("handoff_connections_dispatched_total", "counter", "Connections handed to the slot's workers and acknowledged.");
  for (const auto& s : in.slots) w.sample("handoff_connections_dispatched_total", slot_labels(s), s.handed_off);

  w.family("handoff_connections_queued", "gauge", "Connections waiting for the slot's worker now.");
  for (const auto& s : in.slots) w.sample("handoff_connections_queued", slot_labels(s), s.queued);

  // Kernel dispatch: the slots' own listening sockets, sampled from the kernel each second
  // (the master never sees those connections: handoff_connections_queued stays 0 for
  // them). Only for slots that have one: under master dispatch these families are absent.
  if (std::any_of(in.slots.begin(), in.slots.end(), [](const auto& s) { return s.kernel_backlog > 0; })) {
    w.family("handoff_kernel_queue_depth", "gauge",
             "Connections waiting in the accept queue of the slot's own listening socket (kernel dispatch), as the kernel counts them.");
    for (const auto& s : in.slots)
      if (s.kernel_backlog > 0) w.sample("handoff_kernel_queue_depth", slot_labels(s), s.kernel_queued);
    w.family("handoff_kernel_queue_backlog", "gauge", "Backlog of the slot's own listening socket (kernel dispatch): the depth at which the kernel stops taking connections.");
    for (const auto& s : in.slots)
      if (s.kernel_backlog > 0) w.sample("handoff_kernel_queue_backlog", slot_labels(s), s.kernel_backlog);
  }
  if (std::any_of(in.apps.begin(), in.apps.end(), [](const AppMetrics& a) { return a.kernel_listener.has_value(); })) {
    w.family("handoff_kernel_group_strangers", "gauge",
             "Listening sockets in the app's SO_REUSEPORT group that are not the master's (another process taking a share of its connections).");
    for (const auto& app : in.apps)
      if (app.kernel_listener)
        w.sample("handoff_kernel_group_strangers",
                 app_label(app.name) + ",listener=\"" + escape_label(*app.kernel_listener) + "\"", app.kernel_strangers);
  }

  if (std::any_of(in.apps.begin(), in.apps.end(), [](const AppMetrics& a) { return a.cache.has_value(); })) {
    struct Counter {
      const char* name;
      std::uint64_t cache::Counters::* field;
      const char* help;
    };
    const Counter kCounters[] = {
        {"handoff_cache_hits_total", &cache::Counters::hits, "Requests the master answered from the app's output cache."},
        {"handoff_cache_stale_hits_total", &cache::Counters::stale,
         "Of the hits, those answered past the entry's lifetime while a worker refreshed it (stale_while_revalidate)."},
        {"handoff_cache_misses_total", &cache::Counters::misses,
         "Cacheable requests (GET, HEAD) the output cache had no fresh entry for."},
        {"handoff_cache_stores_total", &cache::Counters::stores,
         "Responses workers marked cacheable that the output cache stored."},
        {"handoff_cache_evictions_total", &cache::Counters::evictions,
         "Entries removed from the output cache to make room (max_size)."}};
    for (const auto& c : kCounters) {
      w.family(c.name, "counter", c.help);
      for (const auto& app : in.apps)
        if (app.cache) w.sample(c.name, app_label(app.name), (*app.cache).*c.field);
    }
    w.family("handoff_cache_entries", "gauge", "Entries in the app's output cache.");
    for (const auto& app : in.apps)
      if (app.cache) w.sample("handoff_cache_entries", app_label(app.name), app.cache->entries);
    w.family("handoff_cache_bytes", "gauge", "Memory the output cache's entries take (keys, heads, bodies), bounded by max_size.");
    for (const auto& app : in.apps)
      if (app.cache) w.sample("handoff_cache_bytes", app_label(app.name), app.cache->bytes);
  }

  w.family("handoff_worker_connections", "gauge", "Connections open in the slot's current worker.");
  for (const auto& s : in.slots)
    if (reports(s)) w.sample("handoff_worker_connections", slot_labels(s), s.connections);

  w.family("handoff_worker_requests_total", "counter", "Requests completed by the slot's current worker (restarts from 0 with each new worker).");
  for (const auto& s : in.slots)
    if (reports(s)) w.sample("handoff_worker_requests_total", slot_labels(s), s.requests);

  if (std::any_of(in.apps.begin(), in.apps.end(), [](const AppMetrics& a) { return a.cache.has_value(); })) {
    w.family("handoff_worker_cache_hits_total", "counter",
             "Of the worker's requests, those a C++ SDK worker answered from the output cache's shared table "
             "(restarts from 0 with each new worker).");
    for (const auto& s : in.slots) {
      const auto app = std::find_if(in.apps.begin(), in.apps.end(), [&](const AppMetrics& a) { return a.name == s.app; });
      if (reports(s) && app != in.apps.end() && app->cache)
        w.sample("handoff_worker_cache_hits_total", slot_labels(s), s.worker_cache_hits);
    }
  }

  w.family("handoff_worker_response_bytes_total", "counter", "Response bytes written by the slot's current worker (headers included).");
  for (const auto& s : in.slots)
    if (reports(s)) w.sample("handoff_worker_response_bytes_total", slot_labels(s), s.bytes);

  w.family("handoff_worker_resident_memory_bytes", "gauge", "Resident memory of the slot's current worker, read by the master.");
  for (const auto& s : in.slots) w.sample("handoff_worker_resident_memory_bytes", slot_labels(s), s.rss);

  w.family("handoff_worker_cpu_seconds_total", "counter",
           "CPU time (user and system) of the slot's current worker, read by the master (restarts from 0 with each new worker).");
  for (const auto& s : in.slots) w.sample("handoff_worker_cpu_seconds_total", slot_labels(s), number(s.cpu_seconds));

  w.family("handoff_slot_restarts_total", "counter", "Restarts and replacements of the slot's worker, by reason.");
  // Every reason of every slot, at 0 until it happens: `increase(...) > 0` then sees a
  // slot's first crash too (a series that appears at 1 has no increase).
  for (const auto& app : in.apps)
    for (const auto& [slot, reasons] : app.restarts)
      for (const RestartReason reason : kRestartReasons) {
        const auto it = reasons.find(reason);
        w.sample("handoff_slot_restarts_total",
                 app_label(app.name) + ",slot=\"" + std::to_string(slot) + "\",reason=\"" + std::string(to_string(reason)) + "\"",
                 it == reasons.end() ? 0 : it->second);
      }

  w.family("handoff_connections_rejected_total", "counter",
           "Connections the master answered itself with an error status instead of handing them over.");
  const auto rejections = [&](const std::string& label, const std::map<int, std::uint64_t>& counts, bool all) {
    std::map<int, std::uint64_t> shown;
    if (all)
      for (int status : kRejectionStatuses) shown[status] = 0;
    for (const auto& [status, n] : counts) shown[status] = n;
    for (const auto& [status, n] : shown)
      w.sample("handoff_connections_rejected_total", label + ",status=\"" + std::to_string(status) + "\"", n);
  };
  for (const auto& app : in.apps) rejections(app_label(app.name), app.rejected, true);
  for (const auto& [listener, counts] : in.listener_rejected)
    rejections("listener=\"" + escape_label(listener) + "\"", counts, false);

  w.family("handoff_app_ready_workers", "gauge", "Ready workers of the app.");
  for (const auto& app : in.apps) w.sample("handoff_app_ready_workers", app_label(app.name), static_cast<std::uint64_t>(app.ready_workers));
  w.family("handoff_app_min_ready_workers", "gauge", "Ready workers the app needs for /readyz (min_ready).");
  for (const auto& app : in.apps) w.sample("handoff_app_min_ready_workers", app_label(app.name), static_cast<std::uint64_t>(app.min_ready));

  w.family("handoff_handoff_latency_seconds", "histogram", "Time from accept to the worker's acknowledgement of the socket.");
  for (const auto& app : in.apps) histogram(w, "handoff_handoff_latency_seconds", app_label(app.name), app.handoff_latency);
  w.family("handoff_queue_wait_seconds", "histogram",
           "Time a connection waited in its slot's queue for the worker (0 when the worker was free), per connection handed over.");
  for (const auto& app : in.apps) histogram(w, "handoff_queue_wait_seconds", app_label(app.name), app.queue_wait);
  return w.take();
}

}  // namespace handoff
