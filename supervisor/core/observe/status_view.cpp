#include "supervisor/core/observe/status_view.h"

#include <algorithm>
#include <cstdio>

namespace handoff {

std::string format_uptime(std::int64_t ms) {
  if (ms <= 0) return "-";
  const std::int64_t s = ms / 1000;
  char text[32];
  if (s < 60) std::snprintf(text, sizeof text, "%llds", static_cast<long long>(s));
  else if (s < 3600) std::snprintf(text, sizeof text, "%lldm%02llds", static_cast<long long>(s / 60), static_cast<long long>(s % 60));
  else if (s < 86400)
    std::snprintf(text, sizeof text, "%lldh%02lldm", static_cast<long long>(s / 3600), static_cast<long long>(s % 3600 / 60));
  else
    std::snprintf(text, sizeof text, "%lldd%02lldh", static_cast<long long>(s / 86400), static_cast<long long>(s % 86400 / 3600));
  return text;
}

std::string format_bytes(std::uint64_t bytes) {
  if (bytes == 0) return "-";
  char text[32];
  const double b = static_cast<double>(bytes);
  if (bytes < (1u << 20)) std::snprintf(text, sizeof text, "%.0fK", b / 1024);
  else if (bytes < (1u << 30)) std::snprintf(text, sizeof text, "%.1fM", b / (1 << 20));
  else std::snprintf(text, sizeof text, "%.2fG", b / (1 << 30));
  return text;
}

namespace {

// CPU use as `top` shows it: percent of one core (200.0 is two cores busy).
std::string format_cpu(double cores) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f", cores * 100.0);
  return text;
}

bool has_worker(const scoreboard::Snapshot& s) {
  return s.pid != 0 && s.state != SlotState::backoff && s.state != SlotState::crash_loop &&
         s.state != SlotState::stopped;
}

}  // namespace

StatusInput read_status(const scoreboard::Header& header, std::int64_t now_ms) {
  return {header.master_pid.load(), header.started_ms.load(), now_ms, scoreboard::read_all(header),
          scoreboard::master_build(header), scoreboard::master_usage(header)};
}

std::vector<std::string> status_cache_lines(const StatusInput& in) {
  // Every slot of an app carries its cache's counters (the master's); each adds the hits
  // its C++ worker answered from the shared table. One line per app that has lookups.
  std::vector<std::string> out;
  for (auto s = in.slots.begin(); s != in.slots.end();) {
    std::uint64_t by_workers = 0;
    auto next = s;
    for (; next != in.slots.end() && next->app == s->app; ++next) by_workers += next->worker_cache_hits;
    const auto hits = s->cache_hits + by_workers;
    const auto lookups = hits + s->cache_misses;
    if (lookups != 0 || s->cache_entries != 0) {
      char ratio[32];
      std::snprintf(ratio, sizeof ratio, "%.1f%%", lookups ? 100.0 * static_cast<double>(hits) / static_cast<double>(lookups) : 0.0);
      out.push_back("app " + s->app + ": cache " + ratio + " hits (" + std::to_string(hits) + " of " +
                    std::to_string(lookups) + (by_workers ? ", " + std::to_string(by_workers) + " by workers" : "") +
                    "), " + std::to_string(s->cache_entries) + " entries, " + std::to_string(s->cache_bytes) +
                    " bytes");
    }
    s = next;
  }
  return out;
}

std::vector<std::string> status_warnings(const StatusInput& in) {
  // Every slot of an app carries its group's strangers: one line per app.
  std::vector<std::string> out;
  std::string last_app;
  for (const auto& s : in.slots) {
    if (s.kernel_strangers == 0 || s.app == last_app) continue;
    last_app = s.app;
    const bool one = s.kernel_strangers == 1;
    out.push_back("app " + s.app + ": " + std::to_string(s.kernel_strangers) + (one ? " stranger" : " strangers") +
                  (s.stranger_pid ? " (pid " + std::to_string(s.stranger_pid) + (one ? ")" : ", ...)") : std::string()) +
                  (one ? " listens" : " listen") + " on its kernel dispatch address and" + (one ? " takes" : " take") +
                  " a share of its connections; see event=kernel_group_stranger in the log");
  }
  return out;
}

nlohmann::ordered_json status_json(const StatusInput& in) {
  nlohmann::ordered_json out;
  out["master"] = {{"pid", in.master_pid},
                   {"version", in.master_build.version},
                   {"commit", in.master_build.commit},
                   {"started_ms", in.master_started_ms},
                   {"uptime_ms", in.master_started_ms ? in.now_ms - in.master_started_ms : 0},
                   {"cpu_percent", in.master_usage.cpu * 100.0},
                   {"cpu_seconds", in.master_usage.cpu_seconds},
                   {"rss", in.master_usage.rss}};
  auto slots = nlohmann::ordered_json::array();
  for (const auto& s : in.slots) {
    const bool running = has_worker(s);
    nlohmann::ordered_json j;
    j["app"] = s.app;
    j["slot"] = s.slot;
    j["pid"] = running ? s.pid : 0;
    j["state"] = to_string(s.state);
    j["generation"] = s.generation;
    j["uptime_ms"] = running && s.started_ms ? std::max<std::int64_t>(0, in.now_ms - s.started_ms) : 0;
    j["restarts"] = s.restarts;
    j["connections"] = s.connections;
    j["requests"] = s.requests;
    j["requests_per_second"] = s.requests_per_second;
    j["handed_off"] = s.handed_off;
    j["queued"] = s.queued;
    // Kernel dispatch: what waits in the slot's own listening socket (backlog 0: none).
    j["kernel_queued"] = s.kernel_queued;
    j["kernel_backlog"] = s.kernel_backlog;
    j["kernel_strangers"] = s.kernel_strangers;
    j["stranger_pid"] = s.stranger_pid;
    j["cache"] = {{"hits", s.cache_hits},   {"misses", s.cache_misses}, {"entries", s.cache_entries},
                  {"bytes", s.cache_bytes}, {"worker_hits", s.worker_cache_hits}};
    j["bytes"] = s.bytes;
    j["rss"] = s.rss;
    j["cpu_percent"] = running ? s.cpu * 100.0 : 0.0;
    j["cpu_seconds"] = running ? s.cpu_seconds : 0.0;
    j["heartbeat_age_ms"] = s.heartbeat_ms ? in.now_ms - s.heartbeat_ms : -1;
    j["last_exit"] = s.last_exit;
    slots.push_back(std::move(j));
  }
  out["slots"] = std::move(slots);
  out["warnings"] = status_warnings(in);
  return out;
}

std::string status_table(const StatusInput& in, const std::vector<double>* rates) {
  struct Row {
    std::vector<std::string> cells;
  };
  const std::vector<std::string> header = {"APP", "SLOT", "PID", "STATE", "GEN", "UPTIME", "RESTARTS",
                                           "CONNS", "QUEUE", "REQUESTS", "REQ/S", "CPU%", "RSS", "LAST EXIT"};
  std::vector<std::vector<std::string>> rows{header};
  rows.push_back({"(master)", "-", std::to_string(in.master_pid), "running", "-",
                  in.master_started_ms ? format_uptime(in.now_ms - in.master_started_ms) : "-", "-", "-", "-", "-", "-",
                  format_cpu(in.master_usage.cpu), format_bytes(in.master_usage.rss), "-"});
  for (std::size_t i = 0; i < in.slots.size(); ++i) {
    const auto& s = in.slots[i];
    const bool running = has_worker(s);
    const double rate = rates && i < rates->size() ? (*rates)[i] : s.requests_per_second;
    char rate_text[32];
    std::snprintf(rate_text, sizeof rate_text, "%.1f", rate);
    rows.push_back({s.app, std::to_string(s.slot), running ? std::to_string(s.pid) : "-",
                    std::string(to_string(s.state)), std::to_string(s.generation),
                    running ? format_uptime(in.now_ms - s.started_ms) : "-", std::to_string(s.restarts),
                    std::to_string(s.connections), std::to_string(s.queued + s.kernel_queued),
                    std::to_string(s.requests), rate_text,
                    running ? format_cpu(s.cpu) : "-", format_bytes(s.rss),
                    s.last_exit.empty() ? "-" : s.last_exit});
  }
  std::vector<std::size_t> width(header.size(), 0);
  for (const auto& r : rows)
    for (std::size_t c = 0; c < r.size(); ++c) width[c] = std::max(width[c], r[c].size());
  std::string out;
  for (const auto& r : rows) {
    std::string line;
    for (std::size_t c = 0; c < r.size(); ++c) {
      const bool last = c + 1 == r.size();
      const bool numeric = c == 1 || c == 2 || (c >= 4 && c <= 12);
      const std::string pad(width[c] - r[c].size(), ' ');
      line += numeric ? pad + r[c] : (last ? r[c] : r[c] + pad);
      if (!last) line += "  ";
    }
    out += line + "\n";
  }
  if (in.slots.empty()) out += "(no slots)\n";
  for (const auto& c : status_cache_lines(in)) out += c + "\n";
  for (const auto& w : status_warnings(in)) out += "WARNING: " + w + "\n";
  return out;
}

}  // namespace handoff
