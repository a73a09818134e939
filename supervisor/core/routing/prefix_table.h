// Port sharing by URL prefix, as HTTP.SYS does it: several apps register prefixes on one
// listener and the longest prefix of a request's path names the app. Pure.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace handoff {

class PrefixTable {
 public:
  // `owner` is the caller's index of the app that registered the prefix.
  void add(std::string prefix, std::size_t owner);
  bool empty() const { return entries_.empty(); }

  // The owner of the longest prefix of `path`, or nullopt when none matches.
  std::optional<std::size_t> match(std::string_view path) const;

  // Every prefix not registered by `owner`: what its workers must hand back.
  std::vector<std::string> others_of(std::size_t owner) const;

 private:
  struct Entry {
    std::string prefix;
    std::size_t owner;
  };
  std::vector<Entry> entries_;  // longest first, so the first match is the longest
};

}  // namespace handoff
