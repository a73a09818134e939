// IP addresses as text, without the C library or libuv: the core parses and formats
// addresses the same way on every platform. It accepts and writes exactly what libuv's
// uv_inet_pton and uv_inet_ntop (the ISC code) do:
//  - IPv4: a dotted quad of decimal numbers 0-255, without leading zeros (01.2.3.4 and
//    1.2.3 are not addresses, unlike for some C libraries);
//  - IPv6: eight groups of 1-4 hex digits, "::" for one run of at least one zero group,
//    the last two groups optionally an IPv4 dotted quad; no zone ("%eth0").
// Formatting: lowercase hex without leading zeros, the longest run of two or more zero
// groups (the first of equal runs) as "::", ::a.b.c.d and ::ffff:a.b.c.d with a dotted quad.
#pragma once

#include <array>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace handoff {

std::optional<std::array<unsigned char, 4>> parse_ipv4_text(std::string_view text);
std::optional<std::array<unsigned char, 16>> parse_ipv6_text(std::string_view text);

std::string ipv4_text(std::span<const unsigned char, 4> address);
// The same into `out` (at least 15 bytes, no terminator): the end of what was written.
char* write_ipv4_text(std::span<const unsigned char, 4> address, char* out);
std::string ipv6_text(std::span<const unsigned char, 16> address);

}  // namespace handoff
