// Which of a port's apps a connection belongs to, before any app's Dispatcher sees it
// (HTTP.SYS-style port sharing): the port's only app when no app registered a prefix;
// otherwise the app with the longest prefix of the request's path, and none (the master
// answers 404) for a path nobody claims or a connection whose head was not read. Pure.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "supervisor/core/routing/prefix_table.h"
#include "supervisor/core/routing/request_head.h"

namespace handoff {

class PortApps {
 public:
  // Adds the next app of the port with its prefixes (none: it takes the whole port);
  // returns its index.
  std::size_t add(const std::vector<std::string>& prefixes);

  // The index of the app that owns the connection, or nullopt: 404.
  std::optional<std::size_t> owner(const RequestHead* head) const;

  // Whether owner() reads the request's path (the port's listener must read heads).
  bool reads_path() const { return !prefixes_.empty(); }
  std::size_t size() const { return apps_; }

  // The prefixes of the port's other apps: what `app`'s workers must hand back.
  std::vector<std::string> foreign_to(std::size_t app) const { return prefixes_.others_of(app); }

 private:
  PrefixTable prefixes_;  // owners are app indexes
  std::size_t apps_ = 0;
};

}  // namespace handoff
