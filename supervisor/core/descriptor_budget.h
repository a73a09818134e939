// How many descriptors a config can make the master hold at once, to compare with the
// process's limit at start (a master out of descriptors accepts nothing, and silent
// clients being classified would lock good ones out).
#pragma once

#include <cstdint>

#include "supervisor/core/config.h"

namespace handoff {

// Per listener: its socket and up to max_classifying connections being read. Per slot: the
// connection in flight, and two workers at once during a replacement, each with its
// channel, stdout and stderr. Plus a few of the master's own. Not counted: connections
// waiting in a slot's queue while its worker is down (up to queue.max each), a bound
// rarely reached, which would make every default config warn where limits are low.
std::uint64_t descriptors_needed(const Config& config);

}  // namespace handoff
