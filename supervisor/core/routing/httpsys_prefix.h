// HTTP.SYS listeners (Windows): which URL prefix each slot of an app binds. Pure.
//
// Slot N of an app serves `<url><route without its leading slash>N/`, e.g. for the
// listener `http://+:8080/`: slot 3 of an app without `routes` binds
// `http://+:8080/3/`, and of an app with `routes: ["/chat/"]` binds
// `http://+:8080/chat/3/`. That is the routing of `url_segment: {index: K, direct: true}`
// on a socket listener (K = 1 + the route's segments), so one client URL reaches the same
// slot on both kinds of listener.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace handoff {

// Whether `url` can be an HTTP.SYS listener URL: `http://host:port/...` ending in '/'
// (host may be `+`, `*`, a name or an address). nullopt if fine, else why not.
std::optional<std::string> httpsys_url_problem(std::string_view url);

// The prefix slot `slot` (1-based) of an app binds; `route` is its route ("" or "/x/").
std::string httpsys_slot_prefix(std::string_view url, std::string_view route, int slot);

// The url_segment index whose direct number names the slot: 1 + the segments of the
// URL's path and the route: 1 for http://+:8080/ without a route, 2 with "/chat/" (or
// for http://+:8080/chat/ without a route).
int httpsys_slot_segment(std::string_view url, std::string_view route);

// `supervisor cache purge APP PREFIX` for an app in HTTP.SYS mode: what to flush from the
// kernel cache of the slot bound to `slot_prefix` (as "http://+:8080/2/"), for `path` (the
// purge's PREFIX: "" for everything, else a path as "/2/img/"). The slot's whole prefix
// when `path` covers it ("", "/", "/2/"), the slot's scheme and host followed by `path`
// when `path` lies inside it ("http://+:8080/2/img/"), nothing when they do not meet
// ("/3/" for slot 2). HTTP.SYS flushes that URL and what is below it.
std::optional<std::string> httpsys_flush_url(std::string_view slot_prefix, std::string_view path);

}  // namespace handoff
