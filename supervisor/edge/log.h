// The supervisor's log: one structured line per event on stderr, in logfmt
//   ts=2026-11-23T20:40:00.123Z event=ready app=hello slot=1 pid=4242 generation=1
// or JSON lines (`log_format: json`). Tests wait on these lines, so event names and
// field names are part of the interface: change them together with tests/.
// Worker output goes to the same stream, "[app/slot/pid] line" in logfmt mode, or
// {"ts":...,"event":"output","app":...,"slot":...,"pid":...,"stream":"stdout","line":...}
// in json mode (output_relay.h).
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "supervisor/core/config.h"

namespace handoff {

using LogFields = std::vector<std::pair<std::string_view, std::string>>;

void set_log_format(LogFormat format);
void log_event(std::string_view event, const LogFields& fields = {});

// Free text that is not a lifecycle event: event=notice msg="..."
void log_line(std::string_view message);

// One line a worker wrote.
struct OutputSource {
  std::string_view app;
  int slot = 0;
  int pid = 0;
  std::string_view stream;  // "stdout" or "stderr"
};
void log_output(const OutputSource& source, std::string_view line);

// The formatting alone, for tests.
std::string format_output_line(LogFormat format, std::string_view timestamp, const OutputSource& source,
                               std::string_view line);
std::string format_log_line(LogFormat format, std::string_view timestamp, std::string_view event,
                            const LogFields& fields);

}  // namespace handoff
