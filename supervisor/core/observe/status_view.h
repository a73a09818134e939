// What `supervisor status`, `supervisor top` and the admin endpoint's /status show: the
// scoreboard's records, as a table for people or JSON for scripts. Pure: the caller
// reads the scoreboard and the clock.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "protocols/scoreboard.h"

namespace handoff {

struct StatusInput {
  std::int64_t master_pid = 0;
  std::int64_t master_started_ms = 0;
  std::int64_t now_ms = 0;
  std::vector<scoreboard::Snapshot> slots;
  scoreboard::Build master_build;  // the master's version and commit
  scoreboard::Usage master_usage;  // its CPU and memory
};

// What a scoreboard says, at `now_ms`.
StatusInput read_status(const scoreboard::Header& header, std::int64_t now_ms);

nlohmann::ordered_json status_json(const StatusInput& input);

// The apps' output caches, one line each under the table: "app web: cache 93.1% hits (931 of
// 1000), 12 entries, 40960 bytes".
std::vector<std::string> status_cache_lines(const StatusInput& input);

// What needs someone's attention (strangers in a kernel dispatch group), one line each;
// `warnings` in the JSON, WARNING: lines under the table.
std::vector<std::string> status_warnings(const StatusInput& input);

// Columns: APP SLOT PID STATE GEN UPTIME RESTARTS CONNS QUEUE REQUESTS REQ/S CPU% RSS LAST EXIT;
// the first row is the master's own ("(master)": its pid, uptime, CPU and memory). QUEUE
// is what waits for the slot: in the master's queue (master dispatch) plus in its own
// listening socket's accept queue (kernel dispatch). status_warnings() follow the table.
// `rates`, when given (one per slot, as `top` measures them), replace the master's.
std::string status_table(const StatusInput& input, const std::vector<double>* rates = nullptr);

// "45s", "12m03s", "3h12m", "4d03h"; "-" for nothing.
std::string format_uptime(std::int64_t ms);
// "812K", "12.3M", "1.20G"; "-" for 0.
std::string format_bytes(std::uint64_t bytes);

}  // namespace handoff
