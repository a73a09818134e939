// worker-sdk/cpp/src/cache_note.h: which responses a C++ worker offers the master's output
// cache, and what the put and the pass carry.
#include "worker-sdk/cpp/src/cache_note.h"

#include <doctest/doctest.h>

#include "tests/unit/support.h"

#include <string>
#include <utility>
#include <vector>

using namespace handoff;

namespace {

constexpr std::uint64_t kMaxEntry = 1024;

Request get(std::string target = "/page", std::vector<Header> headers = {{"Host", "example.com"}}) {
  return test::get_request(std::move(target), std::move(headers));
}

Response cacheable(std::string body = "hello") {
  Response r;
  r.headers = {{"Content-Type", "text/plain"}, {"Cache-Control", "public, max-age=60"}};
  r.body = std::move(body);
  return r;
}

}  // namespace

TEST_CASE("cache note: a GET answered 200 with Cache-Control public and max-age is worth caching") {
  CHECK(worth_caching(get(), cacheable(), kMaxEntry));
  auto redirect = cacheable("");
  redirect.status = 301;
  redirect.headers.push_back({"Location", "/elsewhere"});
  CHECK(worth_caching(get(), redirect, kMaxEntry));
  auto missing = cacheable("no such page");
  missing.status = 404;
  CHECK(worth_caching(get(), missing, kMaxEntry));
}

TEST_CASE("cache note: not a GET, or a GET with Authorization, is not cached") {
  auto head = get();
  head.method = "HEAD";
  CHECK_FALSE(worth_caching(head, cacheable(), kMaxEntry));
  auto post = get();
  post.method = "POST";
  CHECK_FALSE(worth_caching(post, cacheable(), kMaxEntry));
  CHECK_FALSE(worth_caching(get("/page", {{"Host", "x"}, {"Authorization", "Basic dTpw"}}), cacheable(), kMaxEntry));
  CHECK_FALSE(worth_caching(get("/page", {{"Host", "x"}, {"authorization", ""}}), cacheable(), kMaxEntry));
}

TEST_CASE("cache note: a body up to max_entry bytes is cached, a larger one is not") {
  CHECK(worth_caching(get(), cacheable(std::string(kMaxEntry, 'a')), kMaxEntry));
  CHECK_FALSE(worth_caching(get(), cacheable(std::string(kMaxEntry + 1, 'a')), kMaxEntry));
  CHECK(worth_caching(get(), cacheable(""), 0));
}

TEST_CASE("cache note: the response's status and headers decide by the shared rules") {
  auto error = cacheable();
  error.status = 500;
  CHECK_FALSE(worth_caching(get(), error, kMaxEntry));
  auto cookie = cacheable();
  cookie.headers.push_back({"Set-Cookie", "session=1"});
  CHECK_FALSE(worth_caching(get(), cookie, kMaxEntry));
  auto varies = cacheable();
  varies.headers.push_back({"Vary", "Cookie"});
  CHECK_FALSE(worth_caching(get(), varies, kMaxEntry));
  auto by_encoding = cacheable();
  by_encoding.headers.push_back({"Vary", "Accept-Encoding"});
  CHECK(worth_caching(get(), by_encoding, kMaxEntry));
  Response plain;
  plain.body = "no Cache-Control";
  CHECK_FALSE(worth_caching(get(), plain, kMaxEntry));
  Response private_one;
  private_one.headers = {{"Cache-Control", "public, max-age=60, private"}};
  CHECK_FALSE(worth_caching(get(), private_one, kMaxEntry));
}

TEST_CASE("cache note: cache_seconds makes a response cacheable without Cache-Control, and forbids nothing less") {
  Response timed;
  timed.body = "timed";
  timed.cache_seconds = 30;
  CHECK(worth_caching(get(), timed, kMaxEntry));
  auto stored_nowhere = timed;
  stored_nowhere.headers.push_back({"Cache-Control", "no-store"});
  CHECK_FALSE(worth_caching(get(), stored_nowhere, kMaxEntry));
  auto with_cookie = timed;
  with_cookie.headers.push_back({"Set-Cookie", "a=b"});
  CHECK_FALSE(worth_caching(get(), with_cookie, kMaxEntry));
  auto created = timed;
  created.status = 201;
  CHECK_FALSE(worth_caching(get(), created, kMaxEntry));
}

TEST_CASE("cache note: the put carries the request's key, the headers the SDK writes and the body") {
  auto request = get("/page?q=1", {{"Host", "Example.COM:8080"},
                                   {"Accept-Encoding", "gzip"},
                                   {"User-Agent", "test"},
                                   {"accept-encoding", "br"}});
  auto response = cacheable("the body");
  response.headers.insert(response.headers.begin(), {"X-Custom", "Kept As Sent"});
  response.headers.push_back({"Content-Length", "999"});
  response.headers.push_back({"Transfer-Encoding", "chunked"});
  response.headers.push_back({"Connection", "keep-alive"});
  response.headers.push_back({"Keep-Alive", "timeout=5"});
  response.headers.push_back({"Date", "Thu, 01 Jan 2026 00:00:00 GMT"});
  response.headers.push_back({"X-Injected", "a\r\nSet-Cookie: x=1"});  // never written: never cached
  response.headers.push_back({"ETag", "\"v1\""});
  const auto put = cache_put(request, response);
  CHECK(put.host == "example.com:8080");
  CHECK(put.target == "/page?q=1");
  CHECK(put.accept_encoding == "gzip, br");
  CHECK_FALSE(put.ttl.has_value());  // the master reads the lifetime from Cache-Control
  CHECK(put.status == 200);
  const std::vector<std::pair<std::string, std::string>> expected{{"X-Custom", "Kept As Sent"},
                                                                  {"Content-Type", "text/plain"},
                                                                  {"Cache-Control", "public, max-age=60"},
                                                                  {"ETag", "\"v1\""}};
  CHECK(put.headers == expected);
  CHECK(put.body == "the body");
  CHECK(response.body == "the body");  // copied: the client's copy stays

  response.cache_seconds = 45;
  CHECK(cache_put(request, response).ttl == 45);
  CHECK(cache_put(get("/", {}), response).host.empty());  // HTTP/1.0 without Host
  CHECK(cache_put(get("/", {{"Host", "x"}}), response).accept_encoding.empty());
}

TEST_CASE("cache note: the pass names the request's key") {
  const auto pass = cache_pass(get("/a?b=c", {{"HOST", "WWW.Example.com"}}));
  CHECK(pass.host == "www.example.com");
  CHECK(pass.target == "/a?b=c");
}
