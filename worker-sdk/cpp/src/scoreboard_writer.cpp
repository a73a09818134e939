#include "scoreboard_writer.h"


#include "environment.h"
#include "protocols/scoreboard_segment.h"
#include "protocols/unix_time.h"

namespace handoff {

ScoreboardWriter::~ScoreboardWriter() = default;

bool ScoreboardWriter::attach(const std::string& app, int slot, std::string& error) {
  const auto name = get_env(scoreboard::kSegmentEnv);
  const auto index = get_env(scoreboard::kRecordEnv);
  if (!name || !index || name->empty()) return true;
  const auto number = parse_int(*index);
  if (!number || *number < 0) {
    error = std::string(scoreboard::kRecordEnv) + "=" + *index + " is not a record number";
    return false;
  }
  auto segment = scoreboard::Segment::open(*name, true, error);
  if (!segment) {
    error = "cannot map the scoreboard " + *name + ": " + error;
    return false;
  }
  scoreboard::Record* record = scoreboard::record(segment->header(), static_cast<std::uint32_t>(*number));
  if (!record || !scoreboard::describes(*record, app, static_cast<std::uint32_t>(slot))) {
    error = "record " + *index + " of the scoreboard " + *name + " is not the one of " + app + "/" + std::to_string(slot);
    return false;
  }
  segment_ = std::move(segment);
  record_ = record;
  return true;
}

void ScoreboardWriter::heartbeat() {
  if (!record_) return;
  scoreboard::heartbeat(*record_, generation_, unix_ms());
}

}  // namespace handoff
