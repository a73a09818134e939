#include "supervisor/core/routing/prefix_table.h"

#include <algorithm>

namespace handoff {

void PrefixTable::add(std::string prefix, std::size_t owner) {
  const auto at = std::find_if(entries_.begin(), entries_.end(),
                               [&](const Entry& e) { return e.prefix.size() < prefix.size(); });
  entries_.insert(at, Entry{std::move(prefix), owner});
}

std::optional<std::size_t> PrefixTable::match(std::string_view path) const {
  // A handful of prefixes per port: a scan of the longest-first list beats a trie here.
  for (const auto& e : entries_)
    if (path.starts_with(e.prefix)) return e.owner;
  return std::nullopt;
}

std::vector<std::string> PrefixTable::others_of(std::size_t owner) const {
  std::vector<std::string> out;
  for (const auto& e : entries_)
    if (e.owner != owner) out.push_back(e.prefix);
  return out;
}

}  // namespace handoff
