// Addresses: "host:port" text as written in the config, checked without touching the
// network, and client addresses as the routing rules hash them.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace handoff {

struct HostPort {
  std::string host;  // an IP literal without brackets
  int port = 0;
};

// Accepts "127.0.0.1:8080", "0.0.0.0:80", "[::1]:8080", "[::]:8080". Host names are
// not accepted: a listener binds an address, and resolving names at start-up would make
// the config's meaning depend on DNS.
std::optional<HostPort> parse_host_port(std::string_view text);

// The bytes a client address is known by: 4 for IPv4, 16 for IPv6, and an IPv4-mapped
// IPv6 address (::ffff:a.b.c.d, a client on a dual-stack socket) as its 4 IPv4 bytes, so
// it hashes like the same client on IPv4.
std::span<const unsigned char> canonical_address(const unsigned char* bytes, std::size_t length);

}  // namespace handoff
