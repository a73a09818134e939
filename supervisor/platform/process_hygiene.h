// What the master does to itself at start so that no child, peer or inherited descriptor
// can take it down or leak through it (DESIGN "Faults the master survives"). One
// implementation per platform: platform/posix/process_hygiene.cpp, platform/win/....
#pragma once

#include <cstdint>
#include <optional>

namespace handoff::platform {

// Signals whose default action would end the master for nothing:
//  - SIGPIPE: a peer that went away (a worker killed while a handle was in flight, a
//    control client that hung up before its reply) is an EPIPE on that one write;
//  - SIGUSR1 (reopen the log file): logrotate may send it while the master starts, before
//    its own handler replaces this.
// Called first thing by every subcommand, the command-line clients too. Children do not
// inherit it: libuv resets every signal disposition in a spawned process.
void ignore_harmless_signals();

struct DescriptorLimit {
  std::uint64_t before = 0;  // the soft limit the master was started with
  std::uint64_t now = 0;     // the soft limit after raising it
  std::uint64_t hard = 0;
};
// Raises the soft limit on open descriptors to the hard limit (a master holds one per
// client being classified or queued, and three per worker). nullopt where the platform
// has no such limit (Windows).
std::optional<DescriptorLimit> raise_descriptor_limit();

// Marks every descriptor the master inherited beyond stdio close-on-exec, so that none
// reaches a worker (libuv's own are close-on-exec already). Returns how many it marked.
int close_inherited_on_exec();

}  // namespace handoff::platform
