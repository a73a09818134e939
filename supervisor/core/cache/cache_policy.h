// What the output cache may look up and what it may store: the rules of docs/cache.md as
// functions of a request head and of a worker's `cache_put`. Pure. Which responses qualify
// is protocols/cache_rules.h's (the C++ SDK applies the same before it sends); here the
// master's own checks around it: the body's size, well-formed fields, `default_ttl`.
//
// A request is looked up when it is a GET or HEAD without Authorization and without a
// body. A response is stored when it is complete, has status 200, 301 or 404, says how
// long it may be kept (the app's explicit duration, `s-maxage`, `max-age`, or the app's
// default_ttl for a `public` one) and is not private: never with `private`, `no-store`,
// `no-cache`, `Pragma: no-cache`, `Set-Cookie`, or a `Vary` other than Accept-Encoding.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "protocols/cache_table.h"
#include "protocols/ipc_messages.h"
#include "supervisor/core/config.h"
#include "supervisor/core/routing/request_head.h"

namespace handoff::cache {

// A request the cache may answer, its views into the head it came from.
struct Lookup {
  std::string_view host;  // as sent (the key lower-cases it)
  std::string_view target;
  std::string_view accept_encoding;
  bool head_only = false;  // HEAD: the entry's head without its body
  bool keep_alive = true;  // the client keeps the connection after the answer
  bool http10 = false;     // an HTTP/1.0 client that asked for keep-alive must be told
};
std::optional<Lookup> lookup_of(const RequestHead& head);

// What to do with a worker's `cache_put`.
struct StoreDecision {
  bool store = false;
  std::chrono::milliseconds ttl{0};
  bool vary_encoding = false;  // one entry per Accept-Encoding value
  std::string_view why_not;    // for tests and the debug log
};
StoreDecision decide(const ipc::CachePut& put, const CacheConfig& config);

// The key of an entry (protocols/cache_table.h, where C++ workers find it too).
using cache_table::primary_key;
using cache_table::variant_key;

// Whether a header of the worker's response goes into the stored head: hop-by-hop fields and
// those the master writes on each hit (Content-Length, Date, Age) do not.
bool kept_header(std::string_view name);
// A field name is a token and its value has no CR, LF or NUL: a worker's headers are
// untrusted input, and a stored one must not split the answer (response splitting).
bool safe_header(std::string_view name, std::string_view value);

}  // namespace handoff::cache
