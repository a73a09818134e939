#include "supervisor/core/log_record.h"

#include <cstdio>

#include <nlohmann/json.hpp>

namespace handoff {
namespace {

using nlohmann::json;

bool needs_quotes(std::string_view v) {
  if (v.empty()) return true;
  for (char c : v) {
    const auto u = static_cast<unsigned char>(c);
    if (c == ' ' || c == '=' || c == '"' || c == '\\' || u < 0x20 || u == 0x7f) return true;
  }
  return false;
}

// A JSON string; bytes that are not UTF-8 become U+FFFD rather than failing the line.
void append_json_string(std::string& out, std::string_view text) {
  out += json(text).dump(-1, ' ', false, json::error_handler_t::replace);
}

void append_json_field(std::string& out, std::string_view key, const LogValue& value) {
  out.push_back(',');
  append_json_string(out, key);
  out.push_back(':');
  if (value.is_bare()) out += value.text();
  else append_json_string(out, value.text());
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

// The worker line as a JSON object, verbatim, when it is one (the parser checks UTF-8 too,
// so what it accepts can be spliced into our line as is).
std::optional<std::string_view> json_object(std::string_view line) {
  const auto t = trim(line);
  if (t.size() < 2 || t.front() != '{' || t.back() != '}') return std::nullopt;
  if (!json::accept(t)) return std::nullopt;
  return t;
}

}  // namespace

std::string format_timestamp(std::chrono::system_clock::time_point when) {
  using namespace std::chrono;
  const auto ms = time_point_cast<milliseconds>(when);
  const auto days = floor<std::chrono::days>(ms);
  const year_month_day date{days};
  const hh_mm_ss time{ms - days};
  char text[40];
  std::snprintf(text, sizeof text, "%04d-%02u-%02uT%02ld:%02ld:%02ld.%03ldZ", static_cast<int>(date.year()),
                static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()),
                static_cast<long>(time.hours().count()), static_cast<long>(time.minutes().count()),
                static_cast<long>(time.seconds().count()), static_cast<long>(time.subseconds().count()));
  return text;
}

void append_logfmt_value(std::string& out, std::string_view v) {
  if (!needs_quotes(v)) {
    out.append(v);
    return;
  }
  out.push_back('"');
  for (char c : v) {
    const auto u = static_cast<unsigned char>(c);
    switch (c) {
      case '"': out.append("\\\""); break;
      case '\\': out.append("\\\\"); break;
      case '\n': out.append("\\n"); break;
      case '\r': out.append("\\r"); break;
      case '\t': out.append("\\t"); break;
      default:
        if (u < 0x20 || u == 0x7f) {
          char escaped[8];
          std::snprintf(escaped, sizeof escaped, "\\u%04x", u);
          out.append(escaped);
        } else {
          out.push_back(c);
        }
    }
  }
  out.push_back('"');
}

std::string format_log_line(LogFormat format, std::string_view timestamp, std::string_view event,
                            const LogFields& fields) {
  std::string line;
  if (format == LogFormat::json) {
    line = "{\"ts\":";
    append_json_string(line, timestamp);
    append_json_field(line, "event", LogValue(event));
    for (const auto& [key, value] : fields) append_json_field(line, key, value);
    line.push_back('}');
    return line;
  }
  line = "ts=";
  line.append(timestamp);
  line.append(" event=");
  append_logfmt_value(line, event);
  for (const auto& [key, value] : fields) {
    line.push_back(' ');
    line.append(key);
    line.push_back('=');
    append_logfmt_value(line, value.text());
  }
  return line;
}

std::string format_output_line(LogFormat format, std::string_view timestamp, const OutputSource& source,
                               std::string_view line) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);  // a CRLF line ending
  LogFields fields{{"app", source.app}, {"slot", source.slot}, {"pid", source.pid}, {"stream", source.stream}};
  if (format == LogFormat::json) {
    if (auto object = json_object(line)) {
      std::string out = format_log_line(format, timestamp, "output", fields);
      out.pop_back();  // the closing brace
      out.append(",\"json\":");
      out.append(*object);
      out.push_back('}');
      return out;
    }
  }
  fields.emplace_back("line", line);
  return format_log_line(format, timestamp, "output", fields);
}

std::optional<std::vector<std::pair<std::string, std::string>>> parse_logfmt(std::string_view line) {
  std::vector<std::pair<std::string, std::string>> pairs;
  std::size_t i = 0;
  const auto n = line.size();
  while (i < n) {
    while (i < n && line[i] == ' ') ++i;
    if (i == n) break;
    const auto key_start = i;
    while (i < n && line[i] != '=' && line[i] != ' ' && line[i] != '"') ++i;
    if (i == key_start || i == n || line[i] != '=') return std::nullopt;
    std::string key(line.substr(key_start, i - key_start));
    ++i;  // '='
    std::string value;
    if (i < n && line[i] == '"') {
      ++i;
      bool closed = false;
      while (i < n) {
        const char c = line[i++];
        if (c == '"') {
          closed = true;
          break;
        }
        if (c != '\\') {
          value.push_back(c);
          continue;
        }
        if (i == n) return std::nullopt;
        const char e = line[i++];
        switch (e) {
          case 'n': value.push_back('\n'); break;
          case 'r': value.push_back('\r'); break;
          case 't': value.push_back('\t'); break;
          case 'u': {
            if (i + 4 > n) return std::nullopt;
            unsigned code = 0;
            if (std::sscanf(std::string(line.substr(i, 4)).c_str(), "%4x", &code) != 1 || code > 0x7f)
              return std::nullopt;
            value.push_back(static_cast<char>(code));
            i += 4;
            break;
          }
          default: value.push_back(e);
        }
      }
      if (!closed) return std::nullopt;
      if (i < n && line[i] != ' ') return std::nullopt;
    } else {
      while (i < n && line[i] != ' ') value.push_back(line[i++]);
    }
    pairs.emplace_back(std::move(key), std::move(value));
  }
  if (pairs.empty()) return std::nullopt;
  return pairs;
}

std::optional<std::string> app_of_log_line(std::string_view line) {
  if (line.starts_with('{')) {
    const json j = json::parse(line.begin(), line.end(), nullptr, false);
    if (j.is_discarded() || !j.is_object()) return std::nullopt;
    auto app = j.find("app");
    if (app == j.end() || !app->is_string()) return std::nullopt;
    return app->get<std::string>();
  }
  auto pairs = parse_logfmt(line);
  if (!pairs) return std::nullopt;
  for (auto& [key, value] : *pairs)
    if (key == "app") return std::move(value);
  return std::nullopt;
}

}  // namespace handoff
