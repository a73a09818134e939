#include "protocols/route_key.h"

#include <limits>

#include "protocols/http_text.h"
#include "protocols/consistent_hash.h"

namespace handoff {

namespace {

std::optional<std::string_view> unless_empty(std::string_view s) {
  if (s.empty()) return std::nullopt;
  return s;
}

// Splits off the text before the next `separator` (all of it when there is none).
std::string_view next_part(std::string_view& rest, char separator) {
  const std::size_t at = rest.find(separator);
  const std::string_view part = rest.substr(0, at);
  rest.remove_prefix(at == std::string_view::npos ? rest.size() : at + 1);
  return part;
}

bool all_digits(std::string_view s) {
  for (const char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

}  // namespace

std::optional<std::string_view> path_segment(std::string_view path, int index) {
  // Only an origin-form path has segments: "*" and absolute-form targets have none.
  if (index < 1 || !path.starts_with('/')) return std::nullopt;
  std::string_view rest = path.substr(1);
  for (int i = 1; i < index; ++i) {
    if (rest.find('/') == std::string_view::npos) return std::nullopt;
    next_part(rest, '/');
  }
  return unless_empty(next_part(rest, '/'));
}

std::optional<std::string_view> query_value(std::string_view query, std::string_view name) {
  while (!query.empty()) {
    std::string_view pair = next_part(query, '&');
    const std::string_view key = next_part(pair, '=');
    if (key == name) return unless_empty(pair);  // the first match decides, even when empty
  }
  return std::nullopt;
}

std::optional<std::string_view> cookie_value(std::string_view cookie_header, std::string_view name) {
  while (!cookie_header.empty()) {
    std::string_view pair = trim_blanks(next_part(cookie_header, ';'));
    const std::string_view key = trim_blanks(next_part(pair, '='));
    if (key != name) continue;
    std::string_view value = trim_blanks(pair);
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') value = value.substr(1, value.size() - 2);
    return unless_empty(value);  // the first match decides, even when empty
  }
  return std::nullopt;
}

std::optional<std::string_view> host_without_port(std::string_view host_header) {
  std::string_view host = host_header;
  std::string_view after;
  if (host.starts_with('[')) {  // an IPv6 literal: its colons are not the port's
    const std::size_t close = host.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    after = host.substr(close + 1);
    host = host.substr(0, close + 1);
  } else {
    const std::size_t colon = host.find(':');
    if (colon != std::string_view::npos) {
      after = host.substr(colon);
      host = host.substr(0, colon);
    }
  }
  // What follows the host is nothing or ":" and a port (RFC 3986: digits, maybe none).
  if (!after.empty() && (after.front() != ':' || !all_digits(after.substr(1)))) return std::nullopt;
  return unless_empty(host);
}

std::size_t slot_for_key(std::string_view key, std::size_t slots) {
  constexpr std::size_t kMaxBuckets = std::numeric_limits<std::uint32_t>::max();
  const auto buckets = static_cast<std::uint32_t>(slots < 1 ? 1 : (slots > kMaxBuckets ? kMaxBuckets : slots));
  return jump_hash(key_hash(key), buckets);
}

std::optional<std::size_t> direct_slot(std::string_view key, std::size_t slots) {
  // At most as many digits as a size_t holds without overflow; more is out of range anyway.
  if (key.empty() || key.size() > std::numeric_limits<std::size_t>::digits10 || key.front() == '0' ||
      !all_digits(key))
    return std::nullopt;
  std::size_t n = 0;
  for (const char c : key) n = n * 10 + static_cast<std::size_t>(c - '0');
  if (n > slots) return std::nullopt;
  return n - 1;
}

}  // namespace handoff
