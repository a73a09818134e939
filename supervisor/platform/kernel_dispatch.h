// Kernel dispatch's sockets (Linux): one listening socket per slot on an app's listener,
// all bound to the same address with SO_REUSEPORT, so the kernel spreads connections
// among them; the master creates and keeps each (a slot's queue outlives its workers)
// and gives it to the slot's worker. platform/posix/kernel_dispatch.cpp; on Windows
// (platform/win/kernel_dispatch.cpp) there is none, and configs asking for it are refused.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "supervisor/core/kernel_group.h"

namespace handoff::platform {

// Whether this platform has SO_REUSEPORT groups the master can hand out; if not, why.
bool kernel_dispatch_available(std::string& why);

// A socket bound to host:port with SO_REUSEPORT. `listen`: listening with `backlog`, a
// member of the address's group; otherwise only bound, holding the address for the
// group (not in it: a bound socket that does not listen takes no connections). Returns
// the descriptor, or -1 and a libuv error code in `error`.
std::intptr_t open_reuseport_socket(const std::string& host, int port, bool listen, int backlog, int& error);

// A second descriptor of the same socket (close-on-exec), or -1: the master accepts from
// it for a while and closes it, and the socket stays open.
std::intptr_t duplicate_socket(std::intptr_t socket);

// Accepts every connection waiting on a non-blocking listening socket now; their
// descriptors (the caller owns them: a libuv handle, or close_socket() of platform.h).
std::vector<std::intptr_t> accept_waiting(std::intptr_t listening_socket);

// How long a connection just accepted from a kernel queue had been waiting there: the
// time since its last data arrived (its request, for a client that sent one and waited),
// or since its handshake. nullopt where the kernel does not say.
std::optional<std::chrono::milliseconds> waited_in_queue(std::intptr_t connection);

// The one place where ip_hash's program (classic BPF choosing the group's socket by the
// client's source address) is attached to the group of `socket`, for `slots` slots whose
// sockets are at `group_index` in the group (core/routing/source_hash_program.h
// generates it; empty: slot k's socket is the group's k-th). Called when the group is
// built and whenever it changes. False and a reason when it cannot be (Windows has no
// groups; dispatch_mode.cpp keeps ip_hash on master dispatch where the facts say so).
// `by_port`: round_robin's spread by source port instead (generate_port_spread_program),
// while a scale-down's removed sockets drain in the group.
bool attach_source_hash(std::intptr_t socket, int slots, std::span<const std::uint32_t> group_index, std::string& why,
                        bool by_port = false);

// Takes the program off the group of `socket` (a reload turned ip_hash into round_robin):
// the kernel's 4-tuple spread again. False and a reason when it cannot.
bool detach_source_hash(std::intptr_t socket, std::string& why);

// ---- Observing the group (the master's periodic sampling, never per connection) ----

// A listening socket's accept queue as the kernel counts it: connections completed and
// not yet accepted, and the socket's backlog. Linux: TCP_INFO on a listening socket gives
// them as tcpi_unacked and tcpi_sacked. nullopt if the socket is not listening or the
// platform cannot say.
struct AcceptQueue {
  std::uint64_t waiting = 0;
  std::uint64_t backlog = 0;
};
std::optional<AcceptQueue> accept_queue(std::intptr_t listening_socket);

// The socket's inode (fstat), as the kernel's socket tables name it; nullopt if unknown.
std::optional<std::uint64_t> socket_inode(std::intptr_t socket);

// The TCP sockets listening now in the master's network namespace, both families (Linux:
// /proc/self/net/tcp and tcp6, parsed by proc_net_tcp.h). Empty elsewhere.
std::vector<ListeningSocket> listening_sockets();

// The pid of a process holding a descriptor of the socket `inode` (a scan of /proc/*/fd,
// bounded in processes and descriptors read; only processes of our user or readable by
// us are seen); 0 when none was found. Called once per stranger, not periodically.
std::int64_t pid_holding_socket(std::uint64_t inode);

}  // namespace handoff::platform
