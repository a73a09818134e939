// "host:port" text as written in the config, checked without touching the network.
#pragma once

#include <optional>
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

}  // namespace handoff
