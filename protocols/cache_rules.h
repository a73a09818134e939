// Which responses the output cache may keep (issue 19): the rules the C++ SDK applies
// before it sends `cache_put`, and the master applies again to what it receives (a
// worker's put is a hint, never trusted). One home for them: protocols/README.md ("`cache`
// in `welcome`") states them in words, and the Node SDK follows that text.
//
// Pure: no allocation, no I/O. A caller feeds the response's header fields one at a time
// (ResponseCacheFacts::add) from whatever container it holds them in.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace handoff::cache_rules {

// The statuses a response may be cached with: a page, a permanent redirect, a missing page
// (RFC 9110 15.1 lists them among the heuristically cacheable ones; the others either
// depend on the request (206), say nothing reusable (204, 304) or are errors of the moment).
inline constexpr std::array<int, 3> kCacheableStatuses{200, 301, 404};

constexpr bool cacheable_status(int status) {
  for (int s : kCacheableStatuses)
    if (s == status) return true;
  return false;
}

// A request whose response may be cached: a GET (a HEAD's response has no body to store)
// without credentials (RFC 9111 3.5: a shared cache keeps no answer to Authorization
// unless told to; we never do).
constexpr bool cacheable_request(std::string_view method, bool has_authorization) {
  return method == "GET" && !has_authorization;
}

// A request a cache may answer from an entry (the master's intake, and a C++ worker from
// the shared table): a GET, or a HEAD (answered from the GET's entry), without credentials
// and without a body (its bytes would be left unread). The method alone says no to most
// requests, before their headers are read.
constexpr bool answerable_method(std::string_view method) { return method == "GET" || method == "HEAD"; }
constexpr bool answerable_request(std::string_view method, bool has_authorization, bool has_body) {
  return answerable_method(method) && !has_authorization && !has_body;
}

// The host part of a cache key: the request's Host field value, lower-cased (host names
// are case-insensitive, RFC 9110 4.2.3), port included as sent.
std::string key_host(std::string_view host_field);

// What a response's header fields say about keeping it in a shared cache. Every field is
// fed to add(), names in any case; repeated fields (two Cache-Control lines) count as one
// list, as RFC 9110 5.3 combines them.
class ResponseCacheFacts {
 public:
  void add(std::string_view name, std::string_view value);

  // Something forbids storing it whatever the lifetime: a Set-Cookie field, Pragma:
  // no-cache, Cache-Control private, no-store or no-cache (with or without a field list: the
  // field list is not honoured, the whole response is refused), or a Vary on anything but Accept-Encoding
  // (`Vary: *` included).
  bool forbidden() const { return forbidden_; }
  // The response varies with Accept-Encoding: the cache keys it by the request's.
  bool varies_on_accept_encoding() const { return vary_accept_encoding_; }
  // Cache-Control public.
  bool is_public() const { return public_; }
  // Seconds a shared cache keeps it from Cache-Control alone: s-maxage, else max-age (RFC
  // 9111 5.2.2.10: s-maxage wins for a shared cache); 0 when neither is there, when the
  // one that counts is not a number (RFC 9111 4.2.1: such a response is stale), or it is 0.
  std::int64_t header_lifetime() const;
  // Cache-Control has s-maxage or max-age at all (a 0 or a value that is not a number
  // included): the response said how long, so a default lifetime does not apply.
  bool names_lifetime() const { return max_age_ != -1 || s_maxage_ != -1; }

 private:
  void cache_control(std::string_view list);
  void vary(std::string_view list);

  bool forbidden_ = false;
  bool vary_accept_encoding_ = false;
  bool public_ = false;
  // -1: absent; -2: present but not a number; else the seconds (the first occurrence).
  std::int64_t max_age_ = -1;
  std::int64_t s_maxage_ = -1;
};

// The whole rule for a response to a cacheable request (cacheable_request): how many
// seconds the cache keeps it, or nothing when it must not keep it. `explicit_ttl` is the
// app's own duration (Node's `res.cacheDuration`, the C++ SDK's Response::cache_seconds,
// `ttl` in `cache_put`): when set (> 0) it stands for Cache-Control public with max-age;
// what forbids storing still does. The body's size against the cache's `max_entry` is the
// caller's to check.
std::optional<std::int64_t> cache_lifetime(int status, const ResponseCacheFacts& facts,
                                           std::optional<std::int64_t> explicit_ttl = std::nullopt);

// Delta-seconds beyond this are taken as this (RFC 9111 1.2.2: 2^31).
inline constexpr std::int64_t kMaxDeltaSeconds = std::int64_t{1} << 31;

}  // namespace handoff::cache_rules
