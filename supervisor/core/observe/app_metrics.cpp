#include "supervisor/core/observe/app_metrics.h"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string_view>

#include "supervisor/core/observe/metrics_text.h"

namespace handoff {
namespace {

// The master's own namespace: an app's family there would pass for the master's.
constexpr std::string_view kOwnPrefix = "handoff_";
constexpr std::string_view kUpName = "handoff_app_metrics_up";

bool name_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':'; }
bool name_char(char c) { return name_start(c) || (c >= '0' && c <= '9'); }

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

// A metric name at the start of `s`, removed from it; empty if there is none.
std::string_view take_name(std::string_view& s) {
  std::size_t n = 0;
  if (s.empty() || !name_start(s[0])) return {};
  while (n < s.size() && name_char(s[n])) ++n;
  auto name = s.substr(0, n);
  s.remove_prefix(n);
  return name;
}

std::optional<double> parse_value(std::string_view rest) {
  const auto value = rest.substr(0, rest.find_first_of(" \t"));
  if (value == "+Inf" || value == "Inf") return INFINITY;
  if (value == "-Inf") return -INFINITY;
  if (value == "NaN") return NAN;
  double d = 0;
  const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), d);
  if (ec != std::errc() || end != value.data() + value.size()) return std::nullopt;
  return d;
}

struct Label {
  std::string name;
  std::string value;  // as written, escapes kept
};

struct Sample {
  std::string name;
  std::vector<Label> labels;
  std::string rest;  // value and optional timestamp, as written
};

// `name{a="b",...} value [timestamp]`; nullopt when the line is not one.
std::optional<Sample> parse_sample(std::string_view line) {
  Sample s;
  s.name = take_name(line);
  if (s.name.empty()) return std::nullopt;
  if (!line.empty() && line[0] == '{') {
    line.remove_prefix(1);
    for (;;) {
      line = trim(line);
      if (line.empty()) return std::nullopt;
      if (line[0] == '}') {
        line.remove_prefix(1);
        break;
      }
      Label l;
      const auto name = take_name(line);
      if (name.empty() || name.find(':') != std::string_view::npos) return std::nullopt;
      l.name = name;
      line = trim(line);
      if (line.size() < 2 || line[0] != '=') return std::nullopt;
      line = trim(line.substr(1));
      if (line.empty() || line[0] != '"') return std::nullopt;
      std::size_t i = 1;
      for (; i < line.size() && line[i] != '"'; ++i)
        if (line[i] == '\\') ++i;
      if (i >= line.size()) return std::nullopt;
      l.value = line.substr(1, i - 1);
      line.remove_prefix(i + 1);
      s.labels.push_back(std::move(l));
      line = trim(line);
      if (!line.empty() && line[0] == ',') line.remove_prefix(1);
    }
  }
  if (line.empty() || (line[0] != ' ' && line[0] != '\t')) return std::nullopt;
  line = trim(line);
  if (line.empty()) return std::nullopt;
  // A value, then at most a timestamp (integer milliseconds).
  const auto space = line.find_first_of(" \t");
  if (!parse_value(line)) return std::nullopt;
  if (space != std::string_view::npos) {
    const auto stamp = trim(line.substr(space));
    std::int64_t ms = 0;
    const auto [end, ec] = std::from_chars(stamp.data(), stamp.data() + stamp.size(), ms);
    if (ec != std::errc() || end != stamp.data() + stamp.size()) return std::nullopt;
  }
  s.rest = line;
  return s;
}

std::string format_value(double d) {
  if (std::isnan(d)) return "NaN";
  if (std::isinf(d)) return d > 0 ? "+Inf" : "-Inf";
  char buffer[32];
  const auto end = std::to_chars(buffer, buffer + sizeof buffer, d).ptr;
  return std::string(buffer, end);
}

// Whether `sample` belongs to the family `family` of type `type` (histograms and
// summaries spread over name_bucket, name_sum, name_count).
bool in_family(std::string_view sample, std::string_view family, std::string_view type) {
  if (sample == family) return true;
  if (type != "histogram" && type != "summary") return false;
  if (!sample.starts_with(family)) return false;
  const auto suffix = sample.substr(family.size());
  return suffix == "_sum" || suffix == "_count" || (type == "histogram" && suffix == "_bucket");
}

struct Family {
  std::string help;
  std::string type;  // empty: untyped
  bool owned = false;  // the master's own: its lines come first, workers add theirs of the same TYPE
  bool dropped = false;
  std::vector<std::string> lines;  // label mode: samples ready to print
  // Sum mode: by sample name and labels (without `slot`), in first-seen order.
  std::vector<std::pair<std::string, double>> sums;
  std::map<std::string, std::size_t> sum_index;
};

std::string label_text(const std::vector<Label>& labels) {
  std::string out;
  for (const auto& l : labels) out += (out.empty() ? "" : ",") + l.name + "=\"" + l.value + "\"";
  return out;
}

class Merger {
 public:
  explicit Merger(MergedAppMetrics& out) : out_(out) {}

  // The master's own exposition: its families keep their lines as they are and come
  // first, so that a worker's family of the same name (process_* from a client library's
  // default metrics) joins it as one group instead of repeating its HELP.
  void own(std::string_view text) {
    AppMetricsAnswer master;
    master.app = "(master)";
    master.text = text;
    add(master, true);
  }

  void add(const AppMetricsAnswer& a, bool own = false) {
    std::string current;  // the family the last HELP/TYPE named
    std::string current_type;
    std::set<std::string> refused;  // the master's families this worker may not join
    std::size_t unreadable = 0;
    std::size_t start = 0;
    const std::string_view text = a.text;
    while (start < text.size()) {
      auto end = text.find('\n', start);
      if (end == std::string_view::npos) end = text.size();
      const auto line = trim(text.substr(start, end - start));
      start = end + 1;
      if (line.empty()) continue;
      if (line[0] == '#') {
        auto rest = trim(line.substr(1));
        const bool help = rest.starts_with("HELP ") || rest.starts_with("HELP\t");
        const bool type = rest.starts_with("TYPE ") || rest.starts_with("TYPE\t");
        if (!help && !type) continue;  // a comment
        rest = trim(rest.substr(4));
        const auto name = take_name(rest);
        if (name.empty()) {
          ++unreadable;
          continue;
        }
        const auto value = trim(rest);
        Family& f = family(a, std::string(name), own);
        if (current != name) current_type.clear();
        current = name;
        if (own) f.owned = true;
        else if (f.owned && !refused.contains(std::string(name))) {
          if (name.starts_with(kOwnPrefix)) refuse(a, refused, name, "the handoff_ prefix is the master's");
          else if (type && value != f.type) refuse(a, refused, name, "its TYPE differs from the master's own (" + f.type + ")");
        }
        if (help && f.help.empty()) f.help = value;
        if (type) {
          current_type = value;
          if (f.owned) {
            if (own) f.type = value;
          } else if (f.type.empty() && f.lines.empty() && f.sums.empty()) f.type = value;
          else if (f.type != value && !f.dropped) drop(f, std::string(name), "its TYPE differs between workers (" +
                                                                        (f.type.empty() ? "untyped" : f.type) + ", " +
                                                                        std::string(value) + " in app " + a.app +
                                                                        " slot " + std::to_string(a.slot) + ")");
        }
        continue;
      }
      auto sample = parse_sample(line);
      if (!sample) {
        ++unreadable;
        continue;
      }
      const std::string family_name =
          !current.empty() && in_family(sample->name, current, current_type) ? current : sample->name;
      Family& f = family(a, family_name, own);
      if (f.dropped || refused.contains(family_name)) continue;
      if (own) f.lines.push_back(std::string(line) + "\n");
      else if (f.owned && family_name.starts_with(kOwnPrefix)) refuse(a, refused, family_name, "the handoff_ prefix is the master's");
      else if (a.sum) add_sum(a, f, *sample);
      else f.lines.push_back(labelled(a, *sample));
    }
    if (unreadable)
      out_.problems.push_back("app " + a.app + " slot " + std::to_string(a.slot) + ": " + std::to_string(unreadable) +
                              " unreadable line(s) skipped");
  }

  void finish(const std::vector<AppMetricsAnswer>& answers) {
    std::string& o = out_.text;
    for (const auto& name : order_) {
      const Family& f = families_.at(name);
      if (f.dropped || (f.lines.empty() && f.sums.empty())) continue;
      if (!f.help.empty()) o += "# HELP " + name + " " + f.help + "\n";
      if (!f.type.empty()) o += "# TYPE " + name + " " + f.type + "\n";
      for (const auto& line : f.lines) o += line;
      for (const auto& [key, value] : f.sums) o += key + " " + format_value(value) + "\n";
    }
    o += "# HELP " + std::string(kUpName) + " Whether the worker answered the scrape for its app's own metrics in time.\n";
    o += "# TYPE " + std::string(kUpName) + " gauge\n";
    for (const auto& a : answers)
      o += std::string(kUpName) + "{app=\"" + escape_label(a.app) + "\",slot=\"" + std::to_string(a.slot) + "\"} " +
           (a.up ? "1" : "0") + "\n";
  }

 private:

  void refuse(const AppMetricsAnswer& a, std::set<std::string>& refused, std::string_view name, const std::string& why) {
    refused.insert(std::string(name));
    out_.problems.push_back("family " + std::string(name) + " of app " + a.app + " slot " + std::to_string(a.slot) +
                            " left out: " + why);
  }

  Family& family(const AppMetricsAnswer& a, const std::string& name, bool own) {
    auto [it, added] = families_.try_emplace(name);
    if (added) {
      order_.push_back(name);
      if (!own && std::string_view(name).starts_with(kOwnPrefix))
        drop(it->second, name, "the handoff_ prefix is the master's (app " + a.app + ")");
    }
    return it->second;
  }

  void drop(Family& f, const std::string& name, const std::string& why) {
    f.dropped = true;
    f.lines.clear();
    f.sums.clear();
    out_.problems.push_back("family " + name + " dropped: " + why);
  }

  // The app's labels first, then the sample's own (`app`/`slot` renamed exported_*).
  static std::vector<Label> with_app(const AppMetricsAnswer& a, std::vector<Label> own, bool slot) {
    std::vector<Label> labels{{"app", escape_label(a.app)}};
    if (slot) labels.push_back({"slot", std::to_string(a.slot)});
    for (auto& l : own) {
      if (l.name == "app" || l.name == "slot") l.name = "exported_" + l.name;
      labels.push_back(std::move(l));
    }
    return labels;
  }

  static std::string labelled(const AppMetricsAnswer& a, Sample& s) {
    return s.name + "{" + label_text(with_app(a, std::move(s.labels), true)) + "} " + s.rest + "\n";
  }

  void add_sum(const AppMetricsAnswer& a, Family& f, Sample& s) {
    // A summary's quantiles do not add up; its _sum and _count do.
    for (const auto& l : s.labels)
      if (l.name == "quantile" && f.type == "summary") return;
    const auto value = parse_value(s.rest);
    if (!value) return;
    const std::string key = s.name + "{" + label_text(with_app(a, std::move(s.labels), false)) + "}";
    auto [it, added] = f.sum_index.try_emplace(key, f.sums.size());
    if (added) f.sums.emplace_back(key, *value);
    else f.sums[it->second].second += *value;
  }

  MergedAppMetrics& out_;
  std::map<std::string, Family> families_;
  std::vector<std::string> order_;
};

}  // namespace

MergedAppMetrics merge_app_metrics(const std::vector<AppMetricsAnswer>& answers, std::string_view own) {
  MergedAppMetrics out;
  if (answers.empty()) {
    out.text = own;
    return out;
  }
  Merger merger(out);
  merger.own(own);
  for (const auto& a : answers)
    if (a.up) merger.add(a);
  merger.finish(answers);
  return out;
}

}  // namespace handoff
