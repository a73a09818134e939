// What a worker tells the master's output cache about one response (protocols/README.md,
// "`cache` in `welcome`"): a `cache_put` for a response worth keeping, a `cache_pass` for
// the first request of a `fill` connection that got none. Pure; the session
// (http_session.cpp) asks once a response is complete, the edge sends what it produced.
#pragma once

#include <handoff/worker.h>

#include <cstdint>
#include <variant>

#include "protocols/ipc_messages.h"

namespace handoff {

using CacheNote = std::variant<ipc::CachePut, ipc::CachePass>;

// What a request's cache key and rules read: whether it has credentials, and every
// Accept-Encoding line as one list (RFC 9110 5.3), in arrival order.
bool has_authorization(const Request& request);
std::string accept_encoding(const Request& request);

// Whether this response to this request goes to the master's cache: a GET without
// Authorization, a response the rules let a shared cache keep (protocols/cache_rules.h:
// its status and headers, with Response::cache_seconds as the app's own duration), and a
// body of at most max_entry bytes. Reads, copies nothing.
bool worth_caching(const Request& request, const Response& response, std::uint64_t max_entry);

// The put for a response worth_caching() accepted: the request's key, the headers the SDK
// writes (not its framing, not Date) and a copy of the body. `ttl` only when the app set
// cache_seconds (the master reads the lifetime from the headers otherwise).
ipc::CachePut cache_put(const Request& request, const Response& response);

// The pass for a request whose response is not kept: its key alone.
ipc::CachePass cache_pass(const Request& request);

}  // namespace handoff
