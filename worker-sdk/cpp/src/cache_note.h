// What a worker tells the master's output cache about one response (protocols/README.md,
// "`cache` in `welcome`"): a `cache_put` for a response worth keeping, a `cache_pass` for
// the first request of a `fill` connection that got none. Pure; the session
// (http_session.cpp) asks once a response is complete, the edge sends what it produced.
#pragma once

#include <handoff/worker.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
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

// ---- HTTP.SYS mode (Windows, welcome.httpsys with welcome.cache) ----------------------
// There the master never sees a request: HTTP.SYS's own kernel cache keeps the responses
// the worker sends with an HTTP_CACHE_POLICY (HttpCachePolicyTimeToLive, seconds) on
// HttpSendHttpResponse, and answers the next requests for that URL itself. The worker is
// the only judge, so it applies the master's whole rule (supervisor/core/cache/
// cache_policy.h) and HTTP.SYS's own (docs/cache.md, "HTTP.SYS mode").

// Whether HTTP.SYS may keep the response to this request: a GET without Authorization
// (cache_rules::cacheable_request) and without a query (HTTP.SYS's cache keys by the URL
// and does not cache requests with a query string).
bool kernel_cacheable_request(const Request& request);

// How long HTTP.SYS may keep this response, in seconds, or nothing (no policy: not cached,
// HttpCachePolicyNocache). The rule of cache_rules.h with Response::cache_seconds as the
// app's own duration; `Pragma: no-cache` refuses it, as in the master; a `public` response
// without max-age or s-maxage is kept for the offer's default_ttl_ms (whole seconds, rounded
// up; 0: not kept); and any `Vary`, `Accept-Encoding` too, refuses it (HTTP.SYS keeps one response
// per URL). No size limit here: HTTP.SYS applies its own (UriMaxUriBytes), max_entry is
// the master's.
std::optional<std::uint32_t> kernel_cache_seconds(const Response& response, const ipc::CacheOffer& offer);
// Both: the policy's seconds for this response to this request, or nothing.
std::optional<std::uint32_t> kernel_cache_seconds(const Request& request, const Response& response,
                                                  const ipc::CacheOffer& offer);

// Sends a response with its cache policy, and once more without it should HTTP.SYS refuse
// the call with the policy: when the call without it then works, the policy was the cause,
// and no later response carries one (wine 8 takes the policy and ignores it; this is for a
// Windows that would not). Thread-safe.
class KernelCacheFallback {
 public:
  // `call(with_policy)` makes one HttpSendHttpResponse and returns its Win32 error (0:
  // sent). Returns the error of the call that counted. `gave_up` is true for the one call
  // that gave the policy up, for the caller to say so once.
  unsigned long send(bool wants_policy, const std::function<unsigned long(bool with_policy)>& call, bool& gave_up);
  bool gave_up() const { return refused_.load(std::memory_order_relaxed); }

 private:
  std::atomic<bool> refused_{false};
};

}  // namespace handoff
