#include "supervisor/core/routing/proxy_protocol.h"

#include <algorithm>
#include <cstring>
#include <optional>
#include <string_view>

#include "supervisor/core/address.h"
#include "supervisor/core/ip_text.h"

namespace handoff {

namespace {

constexpr std::string_view kV1Prefix = "PROXY ";
constexpr std::size_t kV1MaxLength = 107;  // "PROXY TCP6 " + two longest IPv6 + two ports + CRLF
constexpr std::array<std::byte, 12> kV2Signature = {
    std::byte{0x0D}, std::byte{0x0A}, std::byte{0x0D}, std::byte{0x0A}, std::byte{0x00}, std::byte{0x0D},
    std::byte{0x0A}, std::byte{0x51}, std::byte{0x55}, std::byte{0x49}, std::byte{0x54}, std::byte{0x0A}};
constexpr std::size_t kV2FixedLength = 16;  // signature, version/command, family, length

std::string_view as_text(std::span<const std::byte> bytes) {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

// Whether `bytes` and `expected` agree on their common length.
bool agrees_with(std::span<const std::byte> bytes, std::span<const std::byte> expected) {
  const std::size_t n = std::min(bytes.size(), expected.size());
  return std::memcmp(bytes.data(), expected.data(), n) == 0;
}
bool agrees_with(std::span<const std::byte> bytes, std::string_view expected) {
  return agrees_with(bytes, std::as_bytes(std::span(expected.data(), expected.size())));
}

ProxyParse incomplete() { return {ProxyStatus::incomplete, {}}; }
ProxyParse invalid() { return {ProxyStatus::invalid, {}}; }

// Fills the source address; an IPv4-mapped IPv6 address (::ffff:a.b.c.d) becomes the
// IPv4 address, as every address the project hashes does.
void set_address(ProxyHeader& h, const unsigned char* bytes, std::size_t length) {
  const auto canonical = canonical_address(bytes, length);
  const unsigned char* raw = canonical.data();
  const std::size_t n = canonical.size();
  std::memcpy(h.address.data(), raw, n);
  h.address_length = n;
  h.address_text = n == 4 ? ipv4_text(std::span<const unsigned char, 4>(raw, 4))
                          : ipv6_text(std::span<const unsigned char, 16>(raw, 16));
}

// ---- v1: "PROXY TCP4 203.0.113.7 192.0.2.1 56324 443\r\n" ----

// Splits off the text up to the next single space.
std::optional<std::string_view> next_field(std::string_view& line) {
  const std::size_t space = line.find(' ');
  if (space == std::string_view::npos || space == 0) return std::nullopt;
  const std::string_view field = line.substr(0, space);
  line.remove_prefix(space + 1);
  return field;
}

// A decimal port in [0, 65535], digits only.
std::optional<int> parse_port(std::string_view s) {
  if (s.empty() || s.size() > 5) return std::nullopt;
  int port = 0;
  for (const char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    port = port * 10 + (c - '0');
  }
  if (port > 65535) return std::nullopt;
  return port;
}

// An address of the declared family (no IPv6 zone, no IPv4 leading zeros: ip_text.h).
bool parse_address(std::string_view s, bool v6, unsigned char (&out)[16]) {
  if (v6) {
    const auto address = parse_ipv6_text(s);
    if (address) std::copy(address->begin(), address->end(), out);
    return address.has_value();
  }
  const auto address = parse_ipv4_text(s);
  if (address) std::copy(address->begin(), address->end(), out);
  return address.has_value();
}

ProxyParse parse_v1(std::span<const std::byte> bytes) {
  const std::string_view text = as_text(bytes.first(std::min(bytes.size(), kV1MaxLength)));
  const std::size_t lf = text.find('\n');
  if (lf == std::string_view::npos) {
    // A CR must be the last byte so far (the LF may follow); the line must fit.
    const std::size_t cr = text.find('\r');
    if (cr != std::string_view::npos && cr + 1 != text.size()) return invalid();
    return bytes.size() >= kV1MaxLength ? invalid() : incomplete();
  }
  if (lf == 0 || text[lf - 1] != '\r') return invalid();
  std::string_view line = text.substr(kV1Prefix.size(), lf - 1 - kV1Prefix.size());
  if (line.find('\r') != std::string_view::npos) return invalid();

  ProxyParse result{ProxyStatus::complete, {}};
  ProxyHeader& h = result.header;
  h.length = lf + 1;
  // UNKNOWN: the proxy could not tell (or will not say); whatever follows up to the CRLF
  // is ignored.
  if (line == "UNKNOWN" || line.starts_with("UNKNOWN ")) {
    h.local = true;
    return result;
  }
  const auto family = next_field(line);
  if (!family || (*family != "TCP4" && *family != "TCP6")) return invalid();
  const bool v6 = *family == "TCP6";
  const auto source = next_field(line);
  const auto destination = next_field(line);
  const auto source_port = next_field(line);
  if (!source || !destination || !source_port) return invalid();
  const std::string_view destination_port = line;  // the last field: no space after it
  unsigned char src[16];
  unsigned char dst[16];
  const auto sport = parse_port(*source_port);
  if (!parse_address(*source, v6, src) || !parse_address(*destination, v6, dst) || !sport ||
      !parse_port(destination_port))
    return invalid();
  set_address(h, src, v6 ? 16 : 4);
  h.port = *sport;
  return result;
}

// ---- v2: the binary header ----

ProxyParse parse_v2(std::span<const std::byte> bytes) {
  if (bytes.size() > 12) {
    const auto version_command = std::to_integer<unsigned>(bytes[12]);
    if ((version_command >> 4) != 2 || (version_command & 0xF) > 1) return invalid();
  }
  if (bytes.size() > 13) {
    const auto family = std::to_integer<unsigned>(bytes[13]);
    if ((family >> 4) > 3 || (family & 0xF) > 2) return invalid();  // values the spec does not define
  }
  if (bytes.size() < kV2FixedLength) return incomplete();
  const std::size_t length = kV2FixedLength + (std::to_integer<std::size_t>(bytes[14]) << 8) +
                             std::to_integer<std::size_t>(bytes[15]);
  if (length > kMaxProxyHeader) return invalid();
  if (bytes.size() < length) return incomplete();

  ProxyParse result{ProxyStatus::complete, {}};
  ProxyHeader& h = result.header;
  h.length = length;
  const bool proxy = (std::to_integer<unsigned>(bytes[12]) & 0xF) == 1;
  const auto family = std::to_integer<unsigned>(bytes[13]);
  constexpr unsigned kTcp4 = 0x11;
  constexpr unsigned kTcp6 = 0x21;
  // LOCAL, and PROXY over anything but TCP (UNSPEC, UNIX, DGRAM): the connection's own
  // peer stays the client.
  if (!proxy || (family != kTcp4 && family != kTcp6)) {
    h.local = true;
    return result;
  }
  const std::size_t address_size = family == kTcp4 ? 4 : 16;
  if (length - kV2FixedLength < 2 * address_size + 4) return invalid();
  // Source address, destination address, source port, destination port; TLVs after them
  // are skipped.
  const auto* block = reinterpret_cast<const unsigned char*>(bytes.data()) + kV2FixedLength;
  set_address(h, block, address_size);
  const unsigned char* port = block + 2 * address_size;
  h.port = (port[0] << 8) | port[1];
  return result;
}

}  // namespace

ProxyParse parse_proxy_header(std::span<const std::byte> bytes) {
  if (bytes.empty()) return incomplete();
  if (agrees_with(bytes, kV1Prefix)) return bytes.size() < kV1Prefix.size() ? incomplete() : parse_v1(bytes);
  if (agrees_with(bytes, kV2Signature)) return bytes.size() < kV2Signature.size() ? incomplete() : parse_v2(bytes);
  return invalid();
}

bool looks_like_proxy_header(std::span<const std::byte> bytes) {
  return !bytes.empty() && (agrees_with(bytes, kV1Prefix) || agrees_with(bytes, kV2Signature));
}

}  // namespace handoff
