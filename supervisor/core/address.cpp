#include "supervisor/core/address.h"

#include <charconv>
#include <cstring>

#include "supervisor/core/ip_text.h"

namespace handoff {

std::optional<HostPort> parse_host_port(std::string_view text) {
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return std::nullopt;
  std::string_view host = text.substr(0, colon);
  const std::string_view port_text = text.substr(colon + 1);
  const bool bracketed = host.front() == '[';
  if (bracketed) {
    if (host.size() < 3 || host.back() != ']') return std::nullopt;
    host = host.substr(1, host.size() - 2);
  }
  int port = 0;
  const auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc{} || end != port_text.data() + port_text.size() || port < 1 || port > 65535)
    return std::nullopt;
  // An IPv6 address may name its interface ("fe80::1%eth0"): the listener binds it with
  // that scope (uv_ip6_addr), so only the address before the zone is checked here.
  const bool v6 = parse_ipv6_text(host.substr(0, host.find('%'))).has_value();
  const bool v4 = !v6 && parse_ipv4_text(host).has_value();
  if (!(v4 || v6) || v6 != bracketed) return std::nullopt;
  return HostPort{std::string(host), port};
}

std::span<const unsigned char> canonical_address(const unsigned char* bytes, std::size_t length) {
  static constexpr unsigned char kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (length == 16 && std::memcmp(bytes, kMapped, sizeof kMapped) == 0) return {bytes + 12, 4};
  return {bytes, length};
}

}  // namespace handoff
