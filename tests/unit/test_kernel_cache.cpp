// HTTP.SYS mode with `cache:` (docs/cache.md, "HTTP.SYS mode"): which responses a C++
// worker sends with an HTTP_CACHE_POLICY and for how long (worker-sdk/cpp/src/cache_note.h,
// kernel_cache_seconds), the fallback when HTTP.SYS would refuse the policy
// (KernelCacheFallback), and which URL `supervisor cache purge` flushes on each slot's
// queue (supervisor/core/routing/httpsys_prefix.h, httpsys_flush_url).
#include "worker-sdk/cpp/src/cache_note.h"
#include "supervisor/core/routing/httpsys_prefix.h"

#include <doctest/doctest.h>

#include "tests/unit/support.h"

#include <string>
#include <utility>
#include <vector>

using namespace handoff;

namespace {

const ipc::CacheOffer kOffer{.max_entry = 1024, .default_ttl_ms = 0, .table = {}};

Request get(std::string target = "/2/page", std::vector<Header> headers = {{"Host", "example.com"}}) {
  return test::get_request(std::move(target), std::move(headers));
}

Response answer(std::vector<Header> headers, int status = 200, std::string body = "hello") {
  Response r;
  r.status = status;
  r.headers = std::move(headers);
  r.headers.insert(r.headers.begin(), Header{"Content-Type", "text/plain"});
  r.body = std::move(body);
  return r;
}

std::optional<std::uint32_t> seconds(const Response& response, const ipc::CacheOffer& offer = kOffer) {
  return kernel_cache_seconds(get(), response, offer);
}

}  // namespace

TEST_CASE("kernel cache: a cacheable response gets its lifetime: s-maxage, max-age or cache_seconds") {
  CHECK(seconds(answer({{"Cache-Control", "public, max-age=60"}})) == 60u);
  CHECK(seconds(answer({{"Cache-Control", "public, max-age=60, s-maxage=5"}})) == 5u);  // s-maxage wins
  CHECK(seconds(answer({{"cache-control", "PUBLIC, MAX-AGE=7"}})) == 7u);
  auto own = answer({});
  own.cache_seconds = 30;  // the app's own duration stands for public, max-age
  CHECK(seconds(own) == 30u);
  own.headers.push_back({"Cache-Control", "public, max-age=600"});
  CHECK(seconds(own) == 30u);  // and wins over the header
  auto redirect = answer({{"Location", "/2/elsewhere"}, {"Cache-Control", "public, max-age=60"}}, 301, "");
  CHECK(seconds(redirect) == 60u);
  CHECK(seconds(answer({{"Cache-Control", "public, max-age=60"}}, 404)) == 60u);
  // Capped as RFC 9111 caps delta-seconds (it fits HTTP_CACHE_POLICY's ULONG).
  CHECK(seconds(answer({{"Cache-Control", "public, max-age=99999999999"}})) == 2147483648u);
}

TEST_CASE("kernel cache: what the shared rule refuses gets no policy") {
  CHECK_FALSE(seconds(answer({})));
  CHECK_FALSE(seconds(answer({{"Cache-Control", "max-age=60"}})));             // not public
  CHECK_FALSE(seconds(answer({{"Cache-Control", "public"}})));                 // no lifetime, no default_ttl
  CHECK_FALSE(seconds(answer({{"Cache-Control", "public, max-age=0"}})));
  CHECK_FALSE(seconds(answer({{"Cache-Control", "public, max-age=soon"}})));
  CHECK_FALSE(seconds(answer({{"Cache-Control", "public, max-age=60, private"}})));
  CHECK_FALSE(seconds(answer({{"Cache-Control", "public, max-age=60, no-store"}})));
  CHECK_FALSE(seconds(answer({{"Cache-Control", "public, max-age=60"}, {"Set-Cookie", "id=1"}})));
  CHECK_FALSE(seconds(answer({{"Cache-Control", "public, max-age=60"}, {"Vary", "*"}})));
  CHECK_FALSE(seconds(answer({{"Cache-Control", "public, max-age=60"}}, 500)));
  CHECK_FALSE(seconds(answer({{"Cache-Control", "public, max-age=60"}}, 206)));
  auto never = answer({{"Cache-Control", "public, max-age=60"}});
  never.cache_seconds = 0;  // 0 is "not set": the header decides
  CHECK(seconds(never) == 60u);
  auto own_private = answer({{"Cache-Control", "private"}});
  own_private.cache_seconds = 30;
  CHECK_FALSE(seconds(own_private));  // the app's duration refuses nothing less
}

TEST_CASE("kernel cache: what only the master's rule or HTTP.SYS's adds") {
  // Pragma: no-cache refuses, as the master's decide() does.
  CHECK_FALSE(seconds(answer({{"Cache-Control", "public, max-age=60"}, {"Pragma", "no-cache"}})));
  // HTTP.SYS keeps one response per URL: even Vary: Accept-Encoding refuses (the master
  // would keep one entry per Accept-Encoding).
  CHECK_FALSE(seconds(answer({{"Cache-Control", "public, max-age=60"}, {"Vary", "Accept-Encoding"}})));
  // No max_entry: HTTP.SYS applies its own limit (UriMaxUriBytes).
  CHECK(seconds(answer({{"Cache-Control", "public, max-age=60"}}, 200, std::string(kOffer.max_entry * 4, 'x'))) == 60u);
}

TEST_CASE("kernel cache: default_ttl keeps a public response without a lifetime, in whole seconds rounded up") {
  const ipc::CacheOffer offer{.max_entry = 1024, .default_ttl_ms = 2500, .table = {}};
  CHECK(seconds(answer({{"Cache-Control", "public"}}), offer) == 3u);
  CHECK(seconds(answer({{"Cache-Control", "public"}}), ipc::CacheOffer{.max_entry = 1, .default_ttl_ms = 1, .table = {}}) == 1u);
  CHECK(seconds(answer({{"Cache-Control", "public, max-age=60"}}), offer) == 60u);  // its own lifetime first
  CHECK_FALSE(seconds(answer({}), offer));                                          // not public
  CHECK_FALSE(seconds(answer({{"Cache-Control", "public, no-cache"}}), offer));
  CHECK_FALSE(seconds(answer({{"Cache-Control", "public, max-age=0"}}), offer));
  CHECK_FALSE(seconds(answer({{"Cache-Control", "public"}, {"Set-Cookie", "a=b"}}), offer));
}

TEST_CASE("kernel cache: only a GET without Authorization and without a query") {
  const auto response = answer({{"Cache-Control", "public, max-age=60"}});
  CHECK(kernel_cacheable_request(get()));
  auto head = get();
  head.method = "HEAD";
  CHECK_FALSE(kernel_cache_seconds(head, response, kOffer));
  auto post = get();
  post.method = "POST";
  CHECK_FALSE(kernel_cache_seconds(post, response, kOffer));
  CHECK_FALSE(kernel_cache_seconds(get("/2/page", {{"Host", "x"}, {"Authorization", "Basic dTpw"}}), response, kOffer));
  CHECK_FALSE(kernel_cache_seconds(get("/2/page?x=1"), response, kOffer));
  CHECK_FALSE(kernel_cache_seconds(get("/2/page?"), response, kOffer));
  CHECK(kernel_cache_seconds(get("/2/page"), response, kOffer) == 60u);
}

TEST_CASE("kernel cache fallback: with the policy while HTTP.SYS takes it") {
  KernelCacheFallback fallback;
  std::vector<bool> calls;
  bool gave_up = true;
  CHECK(fallback.send(true, [&](bool with) { calls.push_back(with); return 0ul; }, gave_up) == 0);
  CHECK_FALSE(gave_up);
  CHECK(fallback.send(false, [&](bool with) { calls.push_back(with); return 0ul; }, gave_up) == 0);
  CHECK(calls == std::vector<bool>{true, false});
  CHECK_FALSE(fallback.gave_up());
}

TEST_CASE("kernel cache fallback: refused with the policy, sent without it once, and never with it again") {
  KernelCacheFallback fallback;
  std::vector<bool> calls;
  const auto refuses_policy = [&](bool with) {
    calls.push_back(with);
    return with ? 87ul : 0ul;  // ERROR_INVALID_PARAMETER with it, fine without
  };
  bool gave_up = false;
  CHECK(fallback.send(true, refuses_policy, gave_up) == 0);
  CHECK(gave_up);  // the caller says so, once
  CHECK(fallback.gave_up());
  CHECK(fallback.send(true, refuses_policy, gave_up) == 0);
  CHECK_FALSE(gave_up);
  CHECK(calls == std::vector<bool>{true, false, false});
}

TEST_CASE("kernel cache fallback: a failure without the policy too keeps the policy (the client went away)") {
  KernelCacheFallback fallback;
  std::vector<bool> calls;
  bool gave_up = false;
  // ERROR_CONNECTION_INVALID both ways: the error is reported, the policy stays.
  CHECK(fallback.send(true, [&](bool with) { calls.push_back(with); return 1229ul; }, gave_up) == 1229);
  CHECK_FALSE(gave_up);
  CHECK_FALSE(fallback.gave_up());
  // Without a policy to begin with: one call, its error.
  CHECK(fallback.send(false, [&](bool with) { calls.push_back(with); return 1229ul; }, gave_up) == 1229);
  CHECK(calls == std::vector<bool>{true, false, false});
  CHECK(fallback.send(true, [&](bool with) { calls.push_back(with); return 0ul; }, gave_up) == 0);
  CHECK(calls.back() == true);
}

TEST_CASE("cache purge in HTTP.SYS mode: the URL each slot's queue flushes") {
  const std::string slot2 = "http://+:8080/2/";
  CHECK(httpsys_flush_url(slot2, "") == slot2);     // everything
  CHECK(httpsys_flush_url(slot2, "/") == slot2);    // covers the slot
  CHECK(httpsys_flush_url(slot2, "/2/") == slot2);
  CHECK(httpsys_flush_url(slot2, "/2") == slot2);   // a string prefix, as the master's purge
  CHECK(httpsys_flush_url(slot2, "/2/img/") == "http://+:8080/2/img/");
  CHECK(httpsys_flush_url(slot2, "/2/a.png") == "http://+:8080/2/a.png");
  CHECK_FALSE(httpsys_flush_url(slot2, "/3/"));
  CHECK_FALSE(httpsys_flush_url(slot2, "/img/"));
  CHECK_FALSE(httpsys_flush_url("http://+:8080/20/", "/2/"));
  // Under a route and a listener path.
  CHECK(httpsys_flush_url("http://+:8080/chat/3/", "/chat/") == "http://+:8080/chat/3/");
  CHECK(httpsys_flush_url("http://+:8080/chat/3/", "/chat/3/room/") == "http://+:8080/chat/3/room/");
  CHECK_FALSE(httpsys_flush_url("http://+:8080/chat/3/", "/chat/4/"));
  CHECK(httpsys_flush_url("http://example.com:80/app/1/", "/app/1/x") == "http://example.com:80/app/1/x");
}
