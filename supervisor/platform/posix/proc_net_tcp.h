// Reading Linux's /proc/PID/net/tcp and tcp6: which socket inodes are listening, and on
// what address. Pure (text in), so the hex and byte order are unit-tested.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "supervisor/core/kernel_group.h"

namespace handoff::platform {

// Socket inode -> "127.0.0.1:3000" or "[::]:3000", for the rows in state LISTEN (0A).
// `ipv6`: the text is of tcp6, whose addresses are four 32-bit words in host order.
std::map<std::uint64_t, std::string> listening_in_proc_net_tcp(std::string_view text, bool ipv6);

// The same rows with their owner's uid (kernel dispatch's stranger check), in file order.
std::vector<ListeningSocket> listening_sockets_in_proc_net_tcp(std::string_view text, bool ipv6);

}  // namespace handoff::platform
