// The master's ownership of the scoreboard segment: created at start (replacing one a
// crashed master left behind, refusing to touch one whose master still runs), records
// handed to slots, removed at exit.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "protocols/scoreboard_segment.h"
#include "supervisor/core/scoreboard_name.h"
#include "supervisor/platform/platform.h"

namespace handoff {

class ScoreboardHost {
 public:
  // nullptr and a reason when another live master owns the name, or creation failed.
  // `replaced` says whether a stale segment was removed first.
  static std::unique_ptr<ScoreboardHost> create(const std::string& name, bool& replaced, std::string& error);
  ~ScoreboardHost();  // removes the segment

  const std::string& name() const { return segment_->name(); }
  scoreboard::Header* header() const { return segment_->header(); }
  std::string access() const { return segment_->access(); }
  scoreboard::Record* record(std::uint32_t index) const { return scoreboard::record(header(), index); }
  // Lets `ids`' workers map it (and nobody else).
  bool grant(const platform::Ids& ids, std::string& error);

 private:
  explicit ScoreboardHost(std::unique_ptr<scoreboard::Segment> segment) : segment_(std::move(segment)) {}
  std::unique_ptr<scoreboard::Segment> segment_;
};

}  // namespace handoff
