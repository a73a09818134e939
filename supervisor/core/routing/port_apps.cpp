#include "supervisor/core/routing/port_apps.h"

namespace handoff {

std::size_t PortApps::add(const std::vector<std::string>& prefixes) {
  for (const auto& prefix : prefixes) prefixes_.add(prefix, apps_);
  return apps_++;
}

std::optional<std::size_t> PortApps::owner(const RequestHead* head) const {
  if (prefixes_.empty()) return apps_ > 0 ? std::optional<std::size_t>(0) : std::nullopt;
  if (!head) return std::nullopt;
  return prefixes_.match(head->path);
}

}  // namespace handoff
