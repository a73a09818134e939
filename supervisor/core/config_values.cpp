#include "supervisor/core/config_values.h"

#include <charconv>
#include <cmath>
#include <utility>

namespace handoff {
namespace {

// Splits "12.5ms" into 12.5 and "ms".
std::optional<std::pair<double, std::string_view>> number_and_unit(std::string_view text) {
  std::size_t end = 0;
  while (end < text.size() && ((text[end] >= '0' && text[end] <= '9') || text[end] == '.')) ++end;
  if (end == 0) return std::nullopt;
  double value = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + end, value);
  if (ec != std::errc{} || ptr != text.data() + end || !std::isfinite(value) || value < 0) return std::nullopt;
  std::string_view unit = text.substr(end);
  while (!unit.empty() && unit.front() == ' ') unit.remove_prefix(1);
  return std::pair{value, unit};
}

}  // namespace

std::optional<Milliseconds> parse_duration(std::string_view text) {
  auto parsed = number_and_unit(text);
  if (!parsed) return std::nullopt;
  const auto [value, unit] = *parsed;
  double ms = 0;
  if (unit == "ms") ms = value;
  else if (unit == "s") ms = value * 1e3;
  else if (unit == "m" || unit == "min") ms = value * 60e3;
  else if (unit == "h") ms = value * 3600e3;
  else return std::nullopt;
  if (ms > 1e12) return std::nullopt;
  return Milliseconds(static_cast<std::int64_t>(std::llround(ms)));
}

std::optional<std::uint64_t> parse_size(std::string_view text) {
  auto parsed = number_and_unit(text);
  if (!parsed) return std::nullopt;
  const auto [value, unit] = *parsed;
  double factor = 0;
  if (unit.empty() || unit == "B") factor = 1;
  else if (unit == "K" || unit == "KB") factor = 1e3;
  else if (unit == "M" || unit == "MB") factor = 1e6;
  else if (unit == "G" || unit == "GB") factor = 1e9;
  else if (unit == "KiB") factor = 1024.0;
  else if (unit == "MiB") factor = 1024.0 * 1024;
  else if (unit == "GiB") factor = 1024.0 * 1024 * 1024;
  else return std::nullopt;
  const double bytes = value * factor;
  if (bytes > 1e18) return std::nullopt;
  return static_cast<std::uint64_t>(std::llround(bytes));
}

std::string format_duration(Milliseconds d) {
  const auto ms = d.count();
  if (ms != 0 && ms % 3'600'000 == 0) return std::to_string(ms / 3'600'000) + "h";
  if (ms != 0 && ms % 60'000 == 0) return std::to_string(ms / 60'000) + "m";
  if (ms != 0 && ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
  return std::to_string(ms) + "ms";
}

std::string format_size(std::uint64_t bytes) {
  static constexpr std::pair<const char*, std::uint64_t> kUnits[] = {{"GiB", 1ull << 30}, {"MiB", 1ull << 20}, {"KiB", 1ull << 10}};
  for (const auto& [unit, size] : kUnits)
    if (bytes != 0 && bytes % size == 0) return std::to_string(bytes / size) + unit;
  return std::to_string(bytes);
}

}  // namespace handoff
