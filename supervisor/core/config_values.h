// Units in config values: durations ("100ms", "30s", "5m", "1h") and sizes ("512MiB",
// "2G", "1048576"). Pure parsing; the schema turns failures into located errors.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace handoff {

using Milliseconds = std::chrono::milliseconds;

// A number with a unit: ms, s, m, h. A bare number is rejected: "30" is ambiguous.
std::optional<Milliseconds> parse_duration(std::string_view text);

// Bytes: a bare number, or with K/M/G (powers of 1000) or KiB/MiB/GiB (powers of 1024).
std::optional<std::uint64_t> parse_size(std::string_view text);

std::string format_duration(Milliseconds d);  // "1.5s", "100ms", for docs and logs
std::string format_size(std::uint64_t bytes);  // "64KiB", "16MiB", "1000": the largest exact unit

}  // namespace handoff
