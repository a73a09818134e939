// Kernel dispatch's SO_REUSEPORT group seen from outside: every process of the same user
// that binds the listener's address with SO_REUSEPORT joins the group and takes a share of
// its connections (an old worker that kept a socket, a second supervisor started by
// mistake). The master compares the sockets listening on that address with its own slot
// sockets: any other is a stranger. Pure: the platform lists the listening sockets
// (platform/posix/proc_net_tcp.h parses /proc/net/tcp{,6}) and the master's own inodes;
// this decides which are strangers and reports when one appears and when it goes.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace handoff {

// A socket in state LISTEN, as the kernel lists it.
struct ListeningSocket {
  std::uint64_t inode = 0;
  std::string address;  // "127.0.0.1:3000", "[::]:3000" (group_address's form)
  std::uint32_t uid = 0;
  bool operator==(const ListeningSocket&) const = default;
};

// "host:port" as the kernel's tables are shown ("[::1]:3000" for IPv6, canonical text),
// or nullopt if host is not an IP address.
std::optional<std::string> group_address(const std::string& host, int port);

// Whether a socket listening on `other` can take clients of the group's `address` (both
// in group_address's form): the same port, and the same address or an overlapping one (a
// wildcard of the family: 0.0.0.0 for IPv4, "::" for both). Such a socket is a stranger
// whether it joined the group (same address, SO_REUSEPORT) or sits beside it.
bool competes(const std::string& address, const std::string& other);

class StrangerWatch {
 public:
  struct Change {
    std::vector<ListeningSocket> appeared;
    std::vector<ListeningSocket> gone;
    bool empty() const { return appeared.empty() && gone.empty(); }
  };

  // `address`: the group's (group_address). Each check gives the sockets listening now
  // (any address: those that do not compete() are ignored) and the master's own inodes; what changed
  // since the last check comes back, so a stranger is reported once when it appears and
  // once when it goes, not at every check.
  explicit StrangerWatch(std::string address) : address_(std::move(address)) {}
  Change update(const std::vector<ListeningSocket>& listening, const std::set<std::uint64_t>& own);

  const std::string& address() const { return address_; }
  std::size_t count() const { return strangers_.size(); }
  const std::map<std::uint64_t, ListeningSocket>& strangers() const { return strangers_; }

 private:
  std::string address_;
  std::map<std::uint64_t, ListeningSocket> strangers_;  // by inode
};

}  // namespace handoff
