#include "supervisor/core/kernel_group.h"

#include <charconv>
#include <string_view>

#include "supervisor/core/ip_text.h"

namespace handoff {
namespace {

struct Endpoint {
  std::string_view host;  // without brackets
  bool ipv6 = false;
  int port = 0;
};

std::optional<Endpoint> endpoint(std::string_view address) {
  const auto colon = address.rfind(':');
  if (colon == std::string_view::npos) return std::nullopt;
  Endpoint e;
  e.host = address.substr(0, colon);
  const auto port = address.substr(colon + 1);
  if (std::from_chars(port.data(), port.data() + port.size(), e.port).ec != std::errc{}) return std::nullopt;
  if (e.host.size() >= 2 && e.host.front() == '[' && e.host.back() == ']') {
    e.ipv6 = true;
    e.host = e.host.substr(1, e.host.size() - 2);
  }
  return e;
}

bool any4(const Endpoint& e) { return !e.ipv6 && e.host == "0.0.0.0"; }
bool any6(const Endpoint& e) { return e.ipv6 && e.host == "::"; }

}  // namespace

bool competes(const std::string& group, const std::string& other) {
  const auto g = endpoint(group), o = endpoint(other);
  if (!g || !o || g->port != o->port) return false;
  if (g->host == o->host && g->ipv6 == o->ipv6) return true;  // the group itself
  // A wildcard's clients include every address of its family: "::" (dual-stack, as the
  // master's own sockets are) IPv4's too. Whichever of a wildcard and a specific address
  // the kernel prefers for a client, a listener on the same port that overlaps the group's
  // address is not one of ours and is reported.
  if (any6(*g) || any6(*o)) return true;
  if (any4(*g)) return !o->ipv6 || o->host.starts_with("::ffff:");
  if (any4(*o)) return !g->ipv6 || g->host.starts_with("::ffff:");
  return false;
}

std::optional<std::string> group_address(const std::string& host, int port) {
  if (auto v4 = parse_ipv4_text(host)) return ipv4_text(*v4) + ":" + std::to_string(port);
  if (auto v6 = parse_ipv6_text(host)) return "[" + ipv6_text(*v6) + "]:" + std::to_string(port);
  return std::nullopt;
}

StrangerWatch::Change StrangerWatch::update(const std::vector<ListeningSocket>& listening,
                                            const std::set<std::uint64_t>& own) {
  std::map<std::uint64_t, ListeningSocket> now;
  for (const auto& s : listening)
    if (!own.contains(s.inode) && competes(address_, s.address)) now.emplace(s.inode, s);
  Change change;
  for (const auto& [inode, s] : now)
    if (!strangers_.contains(inode)) change.appeared.push_back(s);
  for (const auto& [inode, s] : strangers_)
    if (!now.contains(inode)) change.gone.push_back(s);
  strangers_ = std::move(now);
  return change;
}

}  // namespace handoff
