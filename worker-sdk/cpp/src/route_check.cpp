#include <handoff/route_check.h>

#include "protocols/route_key.h"

#include <algorithm>
#include <optional>
#include <string>

namespace handoff {

namespace {

bool iequal(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

std::optional<std::string_view> first_header(const std::vector<Header>& headers, std::string_view name) {
  for (const auto& h : headers)
    if (iequal(h.name, name)) return std::string_view(h.value);
  return std::nullopt;
}

// The key as the master's KeyRule subclasses take it; `lowered` holds a host key.
std::optional<std::string_view> key_of(const ipc::RouteCheck& route, std::string_view path, std::string_view query,
                                       const std::vector<Header>& headers, std::string& lowered) {
  if (route.rule == "url_segment") return path_segment(path, route.index);
  if (route.rule == "query") return query_value(query, route.name);
  if (route.rule == "header") {
    auto value = first_header(headers, route.name);
    if (!value || value->empty()) return std::nullopt;
    return value;
  }
  if (route.rule == "cookie") {
    for (const auto& h : headers)
      if (iequal(h.name, "cookie"))
        if (auto value = cookie_value(h.value, route.name)) return value;
    return std::nullopt;
  }
  if (route.rule == "host") {
    auto host = first_header(headers, "host");
    if (!host) return std::nullopt;
    auto name = host_without_port(*host);
    if (!name) return std::nullopt;
    lowered.assign(name->begin(), name->end());
    std::transform(lowered.begin(), lowered.end(), lowered.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return std::string_view(lowered);
  }
  return std::nullopt;
}

bool checkable(std::string_view rule) {
  return rule == "url_segment" || rule == "host" || rule == "header" || rule == "cookie" || rule == "query";
}

}  // namespace

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
  if (!checkable(route.rule)) return true;
  std::string lowered;
  const auto slots = static_cast<std::size_t>(std::max(workers, 1));
  if (auto key = key_of(route, path, query, headers, lowered)) {
    const std::optional<std::size_t> target_slot =
        route.rule == "url_segment" && route.direct ? direct_slot(*key, slots) : slot_for_key(*key, slots);
    if (target_slot) return *target_slot + 1 == static_cast<std::size_t>(slot);
  }
  return route.missing_stays;
}

}  // namespace handoff
