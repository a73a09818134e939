#include "supervisor/edge/log.h"

#include <chrono>
#include <cstdio>

#include <nlohmann/json.hpp>

namespace handoff {
namespace {

LogFormat g_format = LogFormat::logfmt;

bool needs_quotes(std::string_view v) {
  if (v.empty()) return true;
  for (char c : v)
    if (c == ' ' || c == '=' || c == '"' || c == '\\' || static_cast<unsigned char>(c) < 0x20) return true;
  return false;
}

void append_logfmt_value(std::string& out, std::string_view v) {
  if (!needs_quotes(v)) {
    out.append(v);
    return;
  }
  out.push_back('"');
  for (char c : v) {
    if (c == '"' || c == '\\') out.push_back('\\');
    if (c == '\n') {
      out.append("\\n");
      continue;
    }
    out.push_back(c);
  }
  out.push_back('"');
}

std::string now_utc() {
  using namespace std::chrono;
  const auto now = time_point_cast<milliseconds>(system_clock::now());
  const auto days = floor<std::chrono::days>(now);
  const year_month_day date{days};
  const hh_mm_ss time{now - days};
  char text[40];
  std::snprintf(text, sizeof text, "%04d-%02u-%02uT%02ld:%02ld:%02ld.%03ldZ", static_cast<int>(date.year()),
                static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()),
                static_cast<long>(time.hours().count()), static_cast<long>(time.minutes().count()),
                static_cast<long>(time.seconds().count()), static_cast<long>(time.subseconds().count()));
  return text;
}

}  // namespace

void set_log_format(LogFormat format) { g_format = format; }

std::string format_log_line(LogFormat format, std::string_view timestamp, std::string_view event,
                            const LogFields& fields) {
  if (format == LogFormat::json) {
    nlohmann::ordered_json j;
    j["ts"] = timestamp;
    j["event"] = event;
    for (const auto& [key, value] : fields) j[std::string(key)] = value;
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }
  std::string line = "ts=";
  line.append(timestamp);
  line.append(" event=");
  append_logfmt_value(line, event);
  for (const auto& [key, value] : fields) {
    line.push_back(' ');
    line.append(key);
    line.push_back('=');
    append_logfmt_value(line, value);
  }
  return line;
}

void log_event(std::string_view event, const LogFields& fields) {
  std::string line = format_log_line(g_format, now_utc(), event, fields);
  line.push_back('\n');
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
}

std::string format_output_line(LogFormat format, std::string_view timestamp, const OutputSource& source,
                               std::string_view line) {
  if (format == LogFormat::json)
    return format_log_line(format, timestamp, "output",
                           {{"app", std::string(source.app)},
                            {"slot", std::to_string(source.slot)},
                            {"pid", std::to_string(source.pid)},
                            {"stream", std::string(source.stream)},
                            {"line", std::string(line)}});
  std::string out = "[";
  out.append(source.app);
  out += "/" + std::to_string(source.slot) + "/" + std::to_string(source.pid) + "] ";
  out.append(line);
  return out;
}

void log_output(const OutputSource& source, std::string_view line) {
  // Timestamps only where a machine reads them: a plain line stays as the worker wrote it.
  std::string text = format_output_line(g_format, g_format == LogFormat::json ? now_utc() : std::string(), source, line);
  text.push_back('\n');
  std::fwrite(text.data(), 1, text.size(), stderr);
  std::fflush(stderr);
}

void log_line(std::string_view message) { log_event("notice", {{"msg", std::string(message)}}); }

}  // namespace handoff
