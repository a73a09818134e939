#include "protocols/cache_rules.h"

#include "protocols/http_text.h"

#include <algorithm>

namespace handoff::cache_rules {

namespace {

bool blank(char c) { return c == ' ' || c == '\t'; }

// Calls fn(name, value) for each directive of a Cache-Control list, `name[=token]` or
// `name="quoted string"` (RFC 9111 5.2); value is empty without `=`. A comma inside a
// quoted string (`private="Set-Cookie, X-Id"`) does not end the directive, and anything
// after a directive up to the next comma is skipped.
template <class Fn>
void each_directive(std::string_view list, Fn fn) {
  const std::size_t n = list.size();
  std::size_t i = 0;
  while (i < n) {
    while (i < n && (blank(list[i]) || list[i] == ',')) ++i;
    if (i == n) break;
    std::size_t start = i;
    while (i < n && list[i] != '=' && list[i] != ',' && !blank(list[i])) ++i;
    const std::string_view name = list.substr(start, i - start);
    std::string_view value;
    if (i < n && list[i] == '=') {
      ++i;
      if (i < n && list[i] == '"') {
        start = ++i;
        while (i < n && list[i] != '"') i += (list[i] == '\\' && i + 1 < n) ? 2 : 1;
        value = list.substr(start, std::min(i, n) - start);  // escapes kept: numbers never have any
      } else {
        start = i;
        while (i < n && list[i] != ',' && !blank(list[i])) ++i;
        value = list.substr(start, i - start);
      }
    }
    fn(name, value);
    while (i < n && list[i] != ',') ++i;
  }
}

// delta-seconds (RFC 9111 1.2.2): digits, capped at 2^31; -2 when it is not a number.
std::int64_t delta_seconds(std::string_view digits) {
  if (digits.empty()) return -2;
  std::int64_t seconds = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return -2;
    seconds = std::min(seconds * 10 + (c - '0'), kMaxDeltaSeconds);
  }
  return seconds;
}

}  // namespace

std::string key_host(std::string_view host_field) {
  std::string host(trim_blanks(host_field));
  for (char& c : host) c = ascii_lower(c);
  return host;
}

void ResponseCacheFacts::add(std::string_view name, std::string_view value) {
  if (iequals(name, "set-cookie"))
    forbidden_ = true;  // a cookie meant for one client would go to every client
  else if (iequals(name, "cache-control"))
    cache_control(value);
  else if (iequals(name, "vary"))
    vary(value);
  else if (iequals(name, "pragma") && has_token(value, "no-cache"))
    forbidden_ = true;  // an HTTP/1.0 cache's "do not keep" (HTTP.SYS refuses it too)
}

void ResponseCacheFacts::cache_control(std::string_view list) {
  each_directive(list, [this](std::string_view name, std::string_view value) {
    if (iequals(name, "private") || iequals(name, "no-store") || iequals(name, "no-cache"))
      forbidden_ = true;
    else if (iequals(name, "public"))
      public_ = true;
    // RFC 9111 4.2.1: of a directive given twice, the first counts.
    else if (iequals(name, "max-age") && max_age_ == -1)
      max_age_ = delta_seconds(value);
    else if (iequals(name, "s-maxage") && s_maxage_ == -1)
      s_maxage_ = delta_seconds(value);
  });
}

// The cache keys an entry by the request's Accept-Encoding, and by nothing else of the
// request: a response that varies on anything more (`*` included) cannot be kept.
void ResponseCacheFacts::vary(std::string_view list) {
  while (!list.empty()) {
    const auto comma = list.find(',');
    const auto item = trim_blanks(list.substr(0, comma));
    if (iequals(item, "accept-encoding"))
      vary_accept_encoding_ = true;
    else if (!item.empty())
      forbidden_ = true;
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
}

std::int64_t ResponseCacheFacts::header_lifetime() const {
  const std::int64_t chosen = s_maxage_ != -1 ? s_maxage_ : max_age_;
  return chosen > 0 ? chosen : 0;
}

std::optional<std::int64_t> cache_lifetime(int status, const ResponseCacheFacts& facts,
                                           std::optional<std::int64_t> explicit_ttl) {
  if (!cacheable_status(status) || facts.forbidden()) return std::nullopt;
  if (explicit_ttl) {
    // The app's own duration; 0 (or less) keeps it no time at all.
    if (*explicit_ttl <= 0) return std::nullopt;
    return std::min(*explicit_ttl, kMaxDeltaSeconds);
  }
  if (!facts.is_public()) return std::nullopt;
  if (const std::int64_t seconds = facts.header_lifetime(); seconds > 0) return seconds;
  return std::nullopt;
}

}  // namespace handoff::cache_rules
