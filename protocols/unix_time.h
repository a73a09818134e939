// The wall-clock time the scoreboard and `status` speak: Unix time in milliseconds
// (started_ms, heartbeat_ms, a status's "now"). The master, the CLI and the C++ SDK read
// the clock here, so that they agree on what the numbers mean. The pure core never reads
// a clock; it is handed times.
#pragma once

#include <chrono>
#include <cstdint>

namespace handoff {

inline std::int64_t unix_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace handoff
