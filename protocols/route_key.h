// Keys of the L7 rules, taken from a request head, and the mapping of a key to a slot.
// Pure. The worker SDKs (worker-sdk/cpp and worker-sdk/node) implement the same functions
// to decide whether a keep-alive request still belongs to them; tests/fixtures/route-keys.json
// holds cases that every implementation must agree on.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

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

}  // namespace handoff
