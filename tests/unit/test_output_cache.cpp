// The output cache's rules (core/cache/cache_policy.h) and store (core/cache/output_cache.h)
// as functions of requests, responses and time.
#include <doctest/doctest.h>

#include "protocols/http_date.h"
#include "supervisor/core/cache/output_cache.h"

using namespace handoff;
using namespace handoff::cache;
using namespace std::chrono_literals;

namespace {

RequestHead parse(const std::string& text) {
  static std::vector<std::string> keep;  // the views point into it
  keep.push_back(text);
  auto parsed = parse_request_head(keep.back(), 16 * 1024);
  REQUIRE(parsed.status == HeadStatus::complete);
  return parsed.head;
}

ipc::CachePut response(std::string target, std::string cache_control, std::string body = "hello") {
  ipc::CachePut p;
  p.host = "Example.test";
  p.target = std::move(target);
  p.status = 200;
  p.headers = {{"Content-Type", "text/plain"}, {"Cache-Control", std::move(cache_control)}};
  p.body = std::move(body);
  return p;
}

Lookup get(std::string_view target, std::string_view encoding = {}) {
  return Lookup{.host = "example.test", .target = target, .accept_encoding = encoding};
}

}  // namespace

TEST_CASE("lookup_of: GET and HEAD without credentials or body; keep-alive as HTTP/1.0 and 1.1 mean it") {
  auto l = lookup_of(parse("GET /a?b=1 HTTP/1.1\r\nHost: X.test\r\nAccept-Encoding: gzip\r\n\r\n"));
  REQUIRE(l);
  CHECK(l->target == "/a?b=1");
  CHECK(l->host == "X.test");
  CHECK(l->accept_encoding == "gzip");
  CHECK(l->keep_alive);
  CHECK_FALSE(l->head_only);
  CHECK(lookup_of(parse("HEAD / HTTP/1.1\r\nHost: x\r\n\r\n"))->head_only);
  CHECK_FALSE(lookup_of(parse("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")));
  CHECK_FALSE(lookup_of(parse("GET / HTTP/1.1\r\nHost: x\r\nAuthorization: Basic YTpi\r\n\r\n")));
  CHECK_FALSE(lookup_of(parse("GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n")));
  CHECK_FALSE(lookup_of(parse("GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")));
  CHECK_FALSE(lookup_of(parse("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"))->keep_alive);
  CHECK_FALSE(lookup_of(parse("GET / HTTP/1.0\r\n\r\n"))->keep_alive);
  auto ten = lookup_of(parse("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n"));
  CHECK(ten->keep_alive);
  CHECK(ten->http10);
}

TEST_CASE("decide: marked public responses with a lifetime; never private, Set-Cookie, Vary other than Accept-Encoding") {
  CacheConfig config;
  CHECK(decide(response("/", "public, max-age=60"), config).ttl == 60s);
  CHECK(decide(response("/", "public, max-age=60, s-maxage=5"), config).ttl == 5s);
  CHECK_FALSE(decide(response("/", "max-age=60"), config).store);  // not public, no cacheDuration
  CHECK_FALSE(decide(response("/", "public"), config).store);      // no lifetime, default_ttl 0
  config.default_ttl = 2s;
  CHECK(decide(response("/", "public"), config).ttl == 2s);
  for (const char* refusal : {"public, max-age=60, private", "public, no-store, max-age=9", "no-cache, public, max-age=1"})
    CHECK_FALSE(decide(response("/", refusal), config).store);
  auto explicit_ttl = response("/", "");
  explicit_ttl.ttl = 30;  // res.cacheDuration
  CHECK(decide(explicit_ttl, config).ttl == 30s);
  explicit_ttl.ttl = 0;
  CHECK_FALSE(decide(explicit_ttl, config).store);
  auto cookie = response("/", "public, max-age=60");
  cookie.headers.emplace_back("Set-Cookie", "a=b");
  CHECK_FALSE(decide(cookie, config).store);
  auto vary = response("/", "public, max-age=60");
  vary.headers.emplace_back("Vary", "accept-encoding");
  CHECK(decide(vary, config).vary_encoding);
  vary.headers.back().second = "Accept-Encoding, Cookie";
  CHECK_FALSE(decide(vary, config).store);
  vary.headers.back().second = "*";
  CHECK_FALSE(decide(vary, config).store);
  auto status = response("/", "public, max-age=60");
  for (int s : {301, 404}) {
    status.status = s;
    CHECK(decide(status, config).store);
  }
  status.status = 500;
  CHECK_FALSE(decide(status, config).store);
  auto split = response("/", "public, max-age=60");
  split.headers.emplace_back("X-Evil", "a\r\nSet-Cookie: b");
  CHECK(decide(split, config).why_not == "malformed header");
  CHECK_FALSE(decide(response("/", "public, max-age=60", std::string(config.max_entry + 1, 'x')), config).store);
}

TEST_CASE("OutputCache: hit until the lifetime ends; hop-by-hop headers dropped; HEAD and GET share the entry") {
  OutputCache cache(CacheConfig{});
  const auto t0 = Clock::time_point{} + 1h;
  auto r = response("/cached", "public, max-age=60");
  r.headers.emplace_back("Connection", "keep-alive");
  r.headers.emplace_back("Content-Length", "5");
  CHECK(cache.put(r, t0).entry != nullptr);
  const Entry* e = cache.find(get("/cached"), t0 + 10s);
  REQUIRE(e);
  CHECK(e->head == "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nCache-Control: public, max-age=60\r\n");
  CHECK(e->body == "hello");
  CHECK(OutputCache::age_seconds(*e, t0 + 10s) == 10);
  auto head = get("/cached");
  head.head_only = true;
  CHECK(cache.find(head, t0 + 11s));
  CHECK_FALSE(cache.find(get("/cached?x"), t0));  // the query is part of the key
  CHECK_FALSE(cache.find(get("/cached"), t0 + 60s));  // expired: gone
  CHECK(cache.counters().entries == 0);
}

TEST_CASE("OutputCache: Vary: Accept-Encoding keeps one entry per encoding") {
  OutputCache cache(CacheConfig{});
  const auto t0 = Clock::time_point{} + 1h;
  auto gz = response("/v", "public, max-age=60", "GZ");
  gz.headers.emplace_back("Vary", "Accept-Encoding");
  gz.accept_encoding = "gzip";
  auto plain = gz;
  plain.accept_encoding = "";
  plain.body = "PLAIN";
  CHECK(cache.put(gz, t0).entry != nullptr);
  CHECK(cache.find(get("/v", "gzip"), t0)->body == "GZ");
  CHECK_FALSE(cache.find(get("/v", ""), t0));
  CHECK(cache.put(plain, t0).entry != nullptr);
  CHECK(cache.find(get("/v", ""), t0)->body == "PLAIN");
  CHECK(cache.find(get("/v", "gzip"), t0)->body == "GZ");
}

TEST_CASE("OutputCache: LRU within max_size; purge by prefix") {
  CacheConfig config;
  config.max_size = 64 * 1024;
  config.max_entry = 1024;
  OutputCache cache(config);
  const auto t0 = Clock::time_point{} + 1h;
  for (int i = 0; i < 10'000; ++i) {
    cache.put(response("/k/" + std::to_string(i), "public, max-age=60", std::string(500, 'x')), t0);
    CHECK(cache.counters().bytes <= config.max_size);
  }
  CHECK(cache.counters().evictions > 9'000);
  CHECK(cache.find(get("/k/9999"), t0));
  CHECK_FALSE(cache.find(get("/k/0"), t0));
  const auto before = cache.counters().entries;
  CHECK(cache.purge("/k/999") > 0);  // /k/999, /k/9990 .. /k/9999
  CHECK(cache.counters().entries < before);
  CHECK_FALSE(cache.find(get("/k/9999"), t0));
  cache.clear();
  CHECK(cache.counters().entries == 0);
  CHECK(cache.counters().bytes == 0);
}

// For the coalescing cases: fills wait 5 s, passes last 10 s.
static CacheConfig locking_config() {
  CacheConfig config;
  config.lock_timeout = 5s;
  config.pass_ttl = 10s;
  return config;
}

TEST_CASE("OutputCache: one fill per key; put releases, pass and the lock timeout let the key through for pass_ttl") {
  OutputCache cache(locking_config());
  const auto t0 = Clock::time_point{} + 1h;
  CHECK(cache.miss(get("/a"), t0) == Miss::lead);
  CHECK(cache.miss(get("/a"), t0) == Miss::wait);
  CHECK(cache.miss(get("/b"), t0) == Miss::lead);
  auto put = cache.put(response("/a", "public, max-age=60"), t0);
  CHECK(put.entry != nullptr);
  CHECK(put.ended_fill);
  CHECK(cache.find(get("/a"), t0));
  CHECK_FALSE(cache.pass("example.test", "/b", t0).empty());
  CHECK(cache.miss(get("/b"), t0 + 1s) == Miss::pass);
  CHECK(cache.miss(get("/b"), t0 + 11s) == Miss::lead);
  CHECK(cache.next_fill_deadline() == t0 + 11s + 5s);
  CHECK(cache.expire_fills(t0 + 15s).empty());
  CHECK(cache.expire_fills(t0 + 16s) == std::vector<std::string>{std::string("example.test\0/b", 15)});
  CHECK(cache.miss(get("/b"), t0 + 17s) == Miss::pass);
  // A HEAD never leads a fill: its answer has no body to store.
  auto head = get("/h");
  head.head_only = true;
  CHECK(cache.miss(head, t0) == Miss::pass);
  CHECK(cache.miss(get("/h"), t0) == Miss::lead);
  // A fill answered with something not cacheable passes too.
  CHECK(cache.miss(get("/c"), t0) == Miss::lead);
  CHECK(cache.put(response("/c", "private, max-age=60"), t0).ended_fill);
  CHECK(cache.miss(get("/c"), t0 + 1s) == Miss::pass);
}

TEST_CASE("OutputCache: a fill abandoned (its worker died) ends without a pass: the next miss leads") {
  OutputCache cache(locking_config());
  const auto t0 = Clock::time_point{} + 1h;
  CHECK(cache.miss(get("/a"), t0) == Miss::lead);
  CHECK(cache.miss(get("/a"), t0) == Miss::wait);
  CHECK(cache.abandon("example.test", "/a") == std::string("example.test\0/a", 15));
  CHECK(cache.abandon("example.test", "/a").empty());  // none under way any more
  CHECK(cache.miss(get("/a"), t0 + 1s) == Miss::lead);
  CHECK(cache.miss(get("/a"), t0 + 1s) == Miss::wait);
  CHECK_FALSE(cache.next_fill_deadline() == std::nullopt);
}

TEST_CASE("http_date: IMF-fixdate") {
  using namespace std::chrono;
  CHECK(http_date(system_clock::time_point{seconds{784111777}}) == "Sun, 06 Nov 1994 08:49:37 GMT");
  CHECK(http_date(system_clock::time_point{seconds{0}}) == "Thu, 01 Jan 1970 00:00:00 GMT");
}

TEST_CASE("OutputCache: stale_while_revalidate answers with the expired entry while one request refreshes it") {
  CacheConfig config;
  config.stale_while_revalidate = 10s;
  OutputCache cache(config);
  const auto t0 = Clock::time_point{} + 1h;
  CHECK(cache.put(response("/s", "public, max-age=60", "old"), t0).entry != nullptr);
  CHECK(cache.find(get("/s"), t0 + 59s));
  // Expired: the first request finds nothing and leads the refresh...
  CHECK_FALSE(cache.find(get("/s"), t0 + 61s));
  CHECK(cache.miss(get("/s"), t0 + 61s) == Miss::lead);
  // ... the others get the stale entry meanwhile.
  const Entry* stale = cache.find(get("/s"), t0 + 62s);
  REQUIRE(stale);
  CHECK(stale->body == "old");
  CHECK(cache.counters().stale == 1);
  CHECK(cache.put(response("/s", "public, max-age=60", "new"), t0 + 63s).ended_fill);
  CHECK(cache.find(get("/s"), t0 + 64s)->body == "new");
  // Past the window an expired entry is gone.
  CHECK_FALSE(cache.find(get("/s"), t0 + 63s + 60s + 10s));
  CHECK(cache.counters().entries == 0);
}
