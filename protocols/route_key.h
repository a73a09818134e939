// Keys of the L7 rules, taken from a request head, and the mapping of a key to a slot.
// Pure. The master and the C++ SDK share this file; the Node SDK implements the same
// functions in JS to decide whether a keep-alive request still belongs to it; tests/fixtures/route-keys.json
// holds cases that every implementation must agree on.
#pragma once

#include <cstddef>
#include <cstdint>
#include <algorithm>
#include <cctype>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace handoff {

// The Nth segment (1-based) of a path: "/a/b/c" → 1:"a", 2:"b", 3:"c". Segments are taken
// as sent (no percent-decoding); empty segments count ("//x": 1 is "", 2 is "x"). A missing
// or empty segment is nullopt.
std::optional<std::string_view> path_segment(std::string_view path, int index);

// The value of `name` in a query string "a=1&b=2" (first match; names compared exactly,
// values as sent). "a" alone or "a=" give "" which counts as missing: nullopt.
std::optional<std::string_view> query_value(std::string_view query, std::string_view name);

// The value of cookie `name` in a Cookie header "a=1; b=2" (first match, names compared
// exactly, surrounding blanks and double quotes removed). Empty counts as missing.
std::optional<std::string_view> cookie_value(std::string_view cookie_header, std::string_view name);

// The host of a Host header without its port, as the key of the `host` rule:
// "Example.com:8080" → "Example.com" (the caller lowercases), "[::1]:80" → "[::1]".
std::optional<std::string_view> host_without_port(std::string_view host_header);

// The 0-based slot of a key among `slots` (at least 1): jump consistent hash of key_hash
// (consistent_hash.h) of the key's bytes.
std::size_t slot_for_key(std::string_view key, std::size_t slots);

// A key that addresses a slot directly ("3" → slot index 2): a decimal number from 1 to
// `slots` without sign or leading zeros. Anything else: nullopt.
std::optional<std::size_t> direct_slot(std::string_view key, std::size_t slots);

// The rules that take their key from the request. A rule's name is resolved to this once
// (config load, `welcome`), so no request compares rule names; round_robin, ip_hash and
// plugins have no key a worker could check: none.
enum class KeySource { none, url_segment, host, header, cookie, query };

// The one list of their names (config and wire): unknown names are none.
inline constexpr std::pair<std::string_view, KeySource> kKeySourceNames[] = {
    {"url_segment", KeySource::url_segment}, {"host", KeySource::host},   {"header", KeySource::header},
    {"cookie", KeySource::cookie},           {"query", KeySource::query},
};

constexpr KeySource key_source_named(std::string_view rule) {
  for (const auto& [name, source] : kKeySourceNames)
    if (name == rule) return source;
  return KeySource::none;
}

constexpr std::string_view name_of(KeySource source) {  // "" for none
  for (const auto& [name, s] : kKeySourceNames)
    if (s == source) return name;
  return {};
}

inline bool is_key_rule(std::string_view rule) { return key_source_named(rule) != KeySource::none; }

inline bool same_name(std::string_view a, std::string_view b) {  // header names: any case
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

// The key an L7 rule takes from a request: the master routes by it and the C++ SDK
// checks keep-alive requests by it (the Node SDK's route-key.js does the same in JS).
// `headers`: a range of {name, value} in the order sent. `index` is url_segment's
// segment, `name` the header/cookie/query name. A host key is lowercased into `lowered`.
template <class Headers>
std::optional<std::string_view> rule_key(KeySource rule, int index, std::string_view name,
                                         std::string_view path, std::string_view query, const Headers& headers,
                                         std::string& lowered) {
  auto first_header = [&](std::string_view wanted) -> std::optional<std::string_view> {
    for (const auto& h : headers)
      if (same_name(h.name, wanted)) return std::string_view(h.value);
    return std::nullopt;
  };
  switch (rule) {
    case KeySource::none: return std::nullopt;
    case KeySource::url_segment: return path_segment(path, index);
    case KeySource::query: return query_value(query, name);
    case KeySource::header: {
      auto value = first_header(name);
      if (!value || value->empty()) return std::nullopt;
      return value;
    }
    case KeySource::cookie:
      for (const auto& h : headers)
        if (same_name(h.name, "cookie"))
          if (auto value = cookie_value(h.value, name)) return value;
      return std::nullopt;
    case KeySource::host: {
      auto host = first_header("host");
      auto bare = host ? host_without_port(*host) : std::nullopt;
      if (!bare) return std::nullopt;
      // Host names are case-insensitive: Example.COM and example.com are one key.
      lowered.assign(bare->begin(), bare->end());
      std::transform(lowered.begin(), lowered.end(), lowered.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      return std::string_view(lowered);
    }
  }
  return std::nullopt;
}

}  // namespace handoff
