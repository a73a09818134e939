#include "worker-sdk/cpp/src/route_check.h"

#include <algorithm>
#include <string>

#include <uv.h>

#include "protocols/address_hash.h"
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

int ip_hash_slot(std::string_view address, int workers) {
  const std::string text(address.substr(0, address.find('%')));  // without an IPv6 zone
  unsigned char bytes[16] = {};
  const bool v6 = text.find(':') != std::string::npos;
  if (text.size() > 64 || uv_inet_pton(v6 ? AF_INET6 : AF_INET, text.c_str(), bytes) != 0) return 0;
  const std::span<const std::byte> view(reinterpret_cast<const std::byte*>(bytes), v6 ? 16 : 4);
  return static_cast<int>(slot_for_address(view, static_cast<std::size_t>(std::max(workers, 1)))) + 1;
}

}  // namespace handoff
