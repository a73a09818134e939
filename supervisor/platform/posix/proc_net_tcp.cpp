#include "supervisor/platform/posix/proc_net_tcp.h"

#include "supervisor/core/ip_text.h"

#include <charconv>
#include <cstring>
#include <optional>
#include <sstream>
#include <vector>

namespace handoff::platform {
namespace {

std::optional<std::uint32_t> hex32(std::string_view text) {
  std::uint32_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value, 16);
  if (ec != std::errc{} || end != text.data() + text.size()) return std::nullopt;
  return value;
}

// "0100007F:0BB8" (tcp) or 32 hex digits and a port (tcp6). The kernel prints each 32-bit
// word of the address with %08X of its value in memory, so the bytes of a word come out
// reversed on a little-endian machine: reading the word back and storing it restores them.
std::optional<std::string> address(std::string_view field, bool ipv6) {
  const auto colon = field.find(':');
  if (colon == std::string_view::npos) return std::nullopt;
  const std::string_view host = field.substr(0, colon);
  const auto port = hex32(field.substr(colon + 1));
  const std::size_t words = ipv6 ? 4 : 1;
  if (!port || host.size() != words * 8) return std::nullopt;
  unsigned char bytes[16];
  for (std::size_t i = 0; i < words; ++i) {
    const auto word = hex32(host.substr(i * 8, 8));
    if (!word) return std::nullopt;
    std::memcpy(bytes + i * 4, &*word, 4);
  }
  // The core's formatter, as group_address() writes the listener's: the two compare.
  const std::string shown = ipv6 ? "[" + ipv6_text(std::span<const unsigned char, 16>(bytes, 16)) + "]"
                                 : ipv4_text(std::span<const unsigned char, 4>(bytes, 4));
  return shown + ":" + std::to_string(*port);
}

}  // namespace

std::vector<ListeningSocket> listening_sockets_in_proc_net_tcp(std::string_view text, bool ipv6) {
  // "  sl  local_address rem_address   st tx_queue:rx_queue tr:tm->when retrnsmt   uid  timeout inode ..."
  std::vector<ListeningSocket> out;
  std::istringstream lines{std::string(text)};
  std::string line;
  std::getline(lines, line);  // the header
  while (std::getline(lines, line)) {
    std::istringstream fields(line);
    std::vector<std::string> f;
    for (std::string word; f.size() < 10 && fields >> word;) f.push_back(word);
    if (f.size() < 10 || f[3] != "0A") continue;
    std::uint64_t inode = 0;
    std::uint32_t uid = 0;
    if (std::from_chars(f[9].data(), f[9].data() + f[9].size(), inode).ec != std::errc{} || inode == 0) continue;
    if (std::from_chars(f[7].data(), f[7].data() + f[7].size(), uid).ec != std::errc{}) continue;
    if (auto a = address(f[1], ipv6)) out.push_back({inode, *a, uid});
  }
  return out;
}

std::map<std::uint64_t, std::string> listening_in_proc_net_tcp(std::string_view text, bool ipv6) {
  std::map<std::uint64_t, std::string> out;
  for (auto& s : listening_sockets_in_proc_net_tcp(text, ipv6)) out.emplace(s.inode, std::move(s.address));
  return out;
}

}  // namespace handoff::platform
