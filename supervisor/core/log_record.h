// One line of the supervisor's log, as text: every line, a lifecycle event or a line a
// worker wrote, starts with its timestamp and event, then typed fields, in one of two forms:
//   logfmt: ts=2026-11-23T20:40:00.123Z event=ready app=hello slot=1 pid=4242 generation=1
//           ts=... event=output app=hello slot=1 pid=4242 stream=stdout line="GET / 200"
//   json:   {"ts":"2026-11-23T20:40:00.123Z","event":"ready","app":"hello","slot":1,"pid":4242,...}
// In JSON, numbers are numbers and a worker line that is itself a JSON object (pino,
// bunyan, winston's json format) is nested as the object `json` instead of the string
// `line`, so `line` is always a string and `json` always an object (what log stores that
// index by field type need). Tests wait on these lines: event names and field names are
// part of the interface. Pure: the edge (edge/log.cpp) adds the clock and the streams.
#pragma once

#include <chrono>
#include <concepts>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "supervisor/core/config.h"

namespace handoff {

// A field's value: text (quoted as needed), or an integer or boolean (bare in both forms).
class LogValue {
 public:
  LogValue(std::string text) : text_(std::move(text)) {}
  LogValue(std::string_view text) : text_(text) {}
  LogValue(const char* text) : text_(text) {}
  template <std::integral T>
    requires(!std::same_as<T, bool> && !std::same_as<T, char>)
  LogValue(T number) : text_(std::to_string(number)), bare_(true) {}
  template <class B>
    requires std::same_as<B, bool>
  LogValue(B flag) : text_(flag ? "true" : "false"), bare_(true) {}

  const std::string& text() const { return text_; }
  bool is_bare() const { return bare_; }  // a JSON number or boolean, not a string
  bool operator==(const LogValue&) const = default;

 private:
  std::string text_;
  bool bare_ = false;
};

using LogFields = std::vector<std::pair<std::string_view, LogValue>>;

// Where a worker's line came from.
struct OutputSource {
  std::string_view app;
  int slot = 0;
  int pid = 0;
  std::string_view stream;  // "stdout" or "stderr"
};

// 2026-11-23T20:40:00.123Z
std::string format_timestamp(std::chrono::system_clock::time_point when);

// Without the '\n'.
std::string format_log_line(LogFormat format, std::string_view timestamp, std::string_view event,
                            const LogFields& fields);
std::string format_output_line(LogFormat format, std::string_view timestamp, const OutputSource& source,
                               std::string_view line);

// The logfmt convention (as go-logfmt): a value is quoted when it is empty or holds a
// blank, '=', '"', '\\' or a control character; inside quotes \" \\ \n \r \t and \u00XX.
void append_logfmt_value(std::string& out, std::string_view value);
// key=value pairs of one logfmt line, unquoted; nullopt when it is not logfmt.
std::optional<std::vector<std::pair<std::string, std::string>>> parse_logfmt(std::string_view line);

// The `app` field of one formatted line, in either form (nullopt: the line has none), for
// `supervisor logs APP`.
std::optional<std::string> app_of_log_line(std::string_view line);

}  // namespace handoff
