// A request a C++ SDK worker answers from the master's shared cache table
// (protocols/cache_table.h) without calling the app: a later request on a keep-alive
// connection the worker holds, for a key the master stored. Pure but for the clocks it
// is given.
#pragma once

#include <handoff/worker.h>

#include <chrono>
#include <cstdint>
#include <optional>

#include "protocols/cache_table.h"

namespace handoff {

// The answer to `request` when the table has a fresh entry for it: the entry's status,
// headers and body, with `Age` (seconds since the master stored it) and `Date`, as the
// master's own hits. Only what the master would look up: a GET or HEAD without
// Authorization and without a body.
std::optional<Response> cached_response(cache_table::Reader& table, const Request& request,
                                        std::chrono::steady_clock::time_point now,
                                        std::chrono::system_clock::time_point wall);

}  // namespace handoff
