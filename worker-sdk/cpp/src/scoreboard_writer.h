// The worker's own record in the supervisor's scoreboard (protocols/scoreboard.h): found
// through HANDOFF_SCOREBOARD (the segment) and HANDOFF_SCOREBOARD_RECORD (the index),
// checked against HANDOFF_APP and HANDOFF_SLOT, then written with relaxed atomics on the
// request path. Without the variables, or when the segment cannot be mapped (another
// user's), every call does nothing and the master fills the record from `stats`.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "protocols/scoreboard.h"
#include "protocols/scoreboard_segment.h"

namespace handoff {

class ScoreboardWriter {
 public:
  ScoreboardWriter() = default;
  ~ScoreboardWriter();
  // Reads the environment and maps the record. False (and a reason) when a scoreboard
  // was named but could not be used; true when none was named or all went well.
  bool attach(const std::string& app, int slot, std::string& error);
  void set_generation(int generation) { generation_ = static_cast<std::uint32_t>(generation); }
  bool attached() const { return record_ != nullptr; }

  void connection_opened() { add(&scoreboard::Record::connections, 1); }
  void connection_closed() { add(&scoreboard::Record::connections, -1); }
  void requests_done(std::size_t n) { add(&scoreboard::Record::requests, static_cast<std::int64_t>(n)); }
  void bytes_written(std::size_t n) { add(&scoreboard::Record::bytes, static_cast<std::int64_t>(n)); }
  void cache_hits(std::size_t n) { add(&scoreboard::Record::worker_cache_hits, static_cast<std::int64_t>(n)); }
  void heartbeat();

 private:
  void add(std::atomic<std::uint64_t> scoreboard::Record::*counter, std::int64_t delta) {
    if (record_) scoreboard::add(*record_, counter, generation_, delta);
  }
  std::unique_ptr<scoreboard::Segment> segment_;
  scoreboard::Record* record_ = nullptr;
  std::uint32_t generation_ = 0;
};

}  // namespace handoff
