// PROXY protocol v1 (text) and v2 (binary) headers, as sent by HAProxy, nginx and cloud
// load balancers in front of us (https://www.haproxy.org/download/2.8/doc/proxy-protocol.txt).
// Pure: parses bytes peeked from a connection; the caller then consumes `length` bytes.
#pragma once

#include <array>
#include <cstddef>
#include <span>
#include <string>

namespace handoff {

enum class ProxyStatus {
  incomplete,  // a valid prefix of a header: wait for more bytes
  complete,    // `header` is filled
  invalid,     // not a PROXY header, or a malformed one: close the connection
};

struct ProxyHeader {
  std::size_t length = 0;  // bytes the header takes, to consume before the request
  // LOCAL (v2) or UNKNOWN (v1): the load balancer's own connection (health checks);
  // the peer's address stays the client address.
  bool local = false;
  std::array<std::byte, 16> address{};  // source address: 4 bytes for IPv4 (also IPv4-mapped), 16 for IPv6
  std::size_t address_length = 0;
  std::string address_text;             // "203.0.113.7", "2001:db8::1"
  int port = 0;                         // source port
};

struct ProxyParse {
  ProxyStatus status = ProxyStatus::incomplete;
  ProxyHeader header;
};

// The longest header we wait for: v1 is at most 107 bytes; v2 is 16 + its length field,
// and we refuse TLVs beyond this bound.
inline constexpr std::size_t kMaxProxyHeader = 536;

ProxyParse parse_proxy_header(std::span<const std::byte> bytes);

// Whether `bytes` start like a PROXY header (v1 "PROXY " or the v2 signature): on a
// listener without proxy_protocol such a connection gets 400.
bool looks_like_proxy_header(std::span<const std::byte> bytes);

}  // namespace handoff
