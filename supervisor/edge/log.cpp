#include "supervisor/edge/log.h"

#include <algorithm>
#include <cstdio>
#include <vector>

#include "supervisor/edge/log_file.h"

namespace handoff {
namespace {

struct LogState {
  LogFormat format = LogFormat::logfmt;
  LogFile file;
  std::vector<LogReader*> readers;
};

LogState& state() {
  static LogState s;
  return s;
}

std::string now_utc() { return format_timestamp(std::chrono::system_clock::now()); }

void write(std::string_view app, std::string line) {
  line.push_back('\n');
  auto& s = state();
  // The file first: whoever sees a line on stderr (a test, an operator's grep) finds it in
  // the file too.
  s.file.write(line);
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
  for (LogReader* reader : s.readers) reader->on_log_line(app, line);
}

}  // namespace

void set_log_format(LogFormat format) { state().format = format; }

LogFormat log_format() { return state().format; }

std::string set_log_file(const LogFileConfig& config) {
  auto& file = state().file;
  if (config == file.config() && (file.is_open() || config.path.empty())) return {};
  return file.open(config);  // an empty path closes it
}

void reopen_log_file() {
  auto& file = state().file;
  if (file.config().path.empty()) return;
  const std::string error = file.reopen();
  if (!error.empty()) log_event("log_file_failed", {{"error", error}});
  else log_event("log_reopened", {{"path", file.config().path}});
}

const LogFileConfig& log_file_config() { return state().file.config(); }

void log_event(std::string_view event, const LogFields& fields) {
  std::string_view app;
  for (const auto& [key, value] : fields)
    if (key == "app") app = value.text();
  write(app, format_log_line(state().format, now_utc(), event, fields));
}

void log_output(const OutputSource& source, std::string_view line) {
  write(source.app, format_output_line(state().format, now_utc(), source, line));
}

void log_line(std::string_view message) { log_event("notice", {{"msg", message}}); }

void add_log_reader(LogReader* reader) { state().readers.push_back(reader); }

void remove_log_reader(LogReader* reader) { std::erase(state().readers, reader); }

}  // namespace handoff
