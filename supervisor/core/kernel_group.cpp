#include "supervisor/core/kernel_group.h"

#include "supervisor/core/ip_text.h"

namespace handoff {

std::optional<std::string> group_address(const std::string& host, int port) {
  if (auto v4 = parse_ipv4_text(host)) return ipv4_text(*v4) + ":" + std::to_string(port);
  if (auto v6 = parse_ipv6_text(host)) return "[" + ipv6_text(*v6) + "]:" + std::to_string(port);
  return std::nullopt;
}

StrangerWatch::Change StrangerWatch::update(const std::vector<ListeningSocket>& listening,
                                            const std::set<std::uint64_t>& own) {
  std::map<std::uint64_t, ListeningSocket> now;
  for (const auto& s : listening)
    if (s.address == address_ && !own.contains(s.inode)) now.emplace(s.inode, s);
  Change change;
  for (const auto& [inode, s] : now)
    if (!strangers_.contains(inode)) change.appeared.push_back(s);
  for (const auto& [inode, s] : strangers_)
    if (!now.contains(inode)) change.gone.push_back(s);
  strangers_ = std::move(now);
  return change;
}

}  // namespace handoff
