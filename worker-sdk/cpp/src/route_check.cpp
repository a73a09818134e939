#include "worker-sdk/cpp/src/route_check.h"

#include <algorithm>
#include <string>

#include "protocols/route_key.h"

namespace handoff {

bool belongs_here(const ipc::RouteCheck& route, int slot, int workers, std::string_view target,
                  const std::vector<Header>& headers) {
  const std::size_t question = target.find('?');
  const std::string_view path = target.substr(0, question);
  const std::string_view query = question == std::string_view::npos ? std::string_view{} : target.substr(question + 1);
  if (!route.prefixes.empty()) {
    std::size_t best = 0;
    bool matched = false, ours = false;
    for (const auto* list : {&route.prefixes, &route.foreign})
      for (const auto& prefix : *list)
        if (path.starts_with(prefix) && (!matched || prefix.size() > best)) {
          matched = true;
          best = prefix.size();
          ours = list == &route.prefixes;
        }
    if (!ours) return false;
  }
  if (route.rule == KeySource::none) return true;
  std::string lowered;
  const auto slots = static_cast<std::size_t>(std::max(workers, 1));
  if (auto key = rule_key(route.rule, route.index, route.name, path, query, headers, lowered)) {
    const std::optional<std::size_t> target_slot =
        route.rule == KeySource::url_segment && route.direct ? direct_slot(*key, slots) : slot_for_key(*key, slots);
    if (target_slot) return *target_slot + 1 == static_cast<std::size_t>(slot);
  }
  return route.missing_stays;
}

}  // namespace handoff
