// HttpSession's keep-alive announcements, per-connection and per-request limits, and the
// request boundaries the edge times, with the real llhttp parser.
#include "worker-sdk/cpp/src/http_session.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "tests/unit/support.h"

using handoff::test::take_all_output;
using handoff::test::count;

using namespace handoff;

namespace {

struct Recorder {
  std::vector<Request> seen;
  Handler handler() {
    return [this](const Request& r) {
      seen.push_back(r);
      Response res;
      res.body = "you asked for " + r.target;
      return res;
    };
  }
};



// The heads of the responses in `out`, in order (bodies here never contain "HTTP/1.1 ").
std::vector<std::string> heads(const std::string& out) {
  std::vector<std::string> result;
  for (auto pos = out.find("HTTP/1.1 "); pos != std::string::npos; pos = out.find("HTTP/1.1 ", pos + 1))
    result.push_back(out.substr(pos, out.find("\r\n\r\n", pos) - pos));
  return result;
}

HttpLimits limits_with(std::size_t max_requests) {
  HttpLimits l;
  l.max_requests_per_socket = max_requests;
  return l;
}

}  // namespace

TEST_CASE("keep-alive: responses announce the timeout in whole seconds; a closing one does not") {
  Recorder rec;
  HttpSession s(rec.handler(), {}, 5'000);
  s.feed("GET /a HTTP/1.1\r\nHost: x\r\n\r\n");
  const std::string kept = take_all_output(s);
  CHECK(kept.find("\r\nKeep-Alive: timeout=5\r\n") != std::string::npos);
  CHECK(kept.find("Connection:") == std::string::npos);  // HTTP/1.1 keeps alive by default

  s.feed("GET /b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  const std::string closed = take_all_output(s);
  CHECK(closed.find("Connection: close\r\n") != std::string::npos);
  CHECK(closed.find("Keep-Alive") == std::string::npos);
  CHECK(s.closing());
}

TEST_CASE("keep-alive: under a second is not announced (timeout=0 would mean do not reuse)") {
  Recorder rec;
  HttpSession s(rec.handler(), {}, 900);
  s.feed("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  CHECK(take_all_output(s).find("Keep-Alive") == std::string::npos);
}

TEST_CASE("keep-alive: an HTTP/1.0 client that asks for it gets Connection: keep-alive and the timeout") {
  Recorder rec;
  HttpSession s(rec.handler(), {}, 65'000);
  s.feed("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
  const std::string out = take_all_output(s);
  CHECK(out.find("Connection: keep-alive\r\nKeep-Alive: timeout=65\r\n") != std::string::npos);
  CHECK_FALSE(s.closing());
}

TEST_CASE("keep-alive: a handler's own Keep-Alive header is dropped, the SDK writes its own") {
  HttpSession s(
      [](const Request&) {
        Response r;
        r.headers.push_back({"Keep-Alive", "timeout=600"});
        return r;
      },
      {}, 5'000);
  s.feed("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  const std::string out = take_all_output(s);
  CHECK(count(out, "Keep-Alive") == 1);
  CHECK(out.find("Keep-Alive: timeout=5\r\n") != std::string::npos);
}

TEST_CASE("max_requests_per_socket: the last allowed response closes; later pipelined requests are not served") {
  Recorder rec;
  HttpSession s(rec.handler(), limits_with(3), 5'000);
  s.feed("GET /1 HTTP/1.1\r\nHost: x\r\n\r\nGET /2 HTTP/1.1\r\nHost: x\r\n\r\nGET /3 HTTP/1.1\r\nHost: x\r\n\r\nGET /4 HTTP/1.1\r\nHost: x\r\n\r\n");
  const auto h = heads(take_all_output(s));
  REQUIRE(h.size() == 3);
  // Announced as the number of requests still allowed after this one.
  CHECK(h[0].find("Keep-Alive: timeout=5, max=2") != std::string::npos);
  CHECK(h[1].find("Keep-Alive: timeout=5, max=1") != std::string::npos);
  CHECK(h[2].find("Connection: close") != std::string::npos);
  CHECK(h[2].find("Keep-Alive") == std::string::npos);
  REQUIRE(rec.seen.size() == 3);
  CHECK(rec.seen[2].target == "/3");
  CHECK(s.closing());
}

TEST_CASE("max_requests_per_socket: 1 closes after the first response; 0 never limits") {
  Recorder rec;
  HttpSession one(rec.handler(), limits_with(1));
  one.feed("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  CHECK(take_all_output(one).find("Connection: close") != std::string::npos);
  CHECK(one.closing());

  HttpSession unlimited(rec.handler(), limits_with(0), 5'000);
  std::string pipeline;
  for (int i = 0; i < 200; ++i) pipeline += "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
  unlimited.feed(pipeline);
  const std::string out = take_all_output(unlimited);
  CHECK(count(out, "HTTP/1.1 200 OK") == 200);
  CHECK(out.find("max=") == std::string::npos);
  CHECK_FALSE(unlimited.closing());
}

TEST_CASE("max_requests_per_socket: async answers count the same way") {
  std::vector<Responder> pending;
  HttpSession s([&](const Request&, Responder r) { pending.push_back(std::move(r)); }, limits_with(2));
  s.feed("GET /1 HTTP/1.1\r\nHost: x\r\n\r\nGET /2 HTTP/1.1\r\nHost: x\r\n\r\nGET /3 HTTP/1.1\r\nHost: x\r\n\r\n");
  REQUIRE(pending.size() == 1);
  pending[0].send(Response{});
  REQUIRE(pending.size() == 2);
  pending[1].send(Response{});
  CHECK(pending.size() == 2);  // the third is never dispatched
  const auto h = heads(take_all_output(s));
  REQUIRE(h.size() == 2);
  CHECK(h[0].find("Connection: close") == std::string::npos);
  CHECK(h[1].find("Connection: close") != std::string::npos);
  CHECK(s.closing());
}

TEST_CASE("max_body_size: a declared Content-Length over it gets 413 before any body byte, and no 100 Continue") {
  Recorder rec;
  HttpLimits l;
  l.max_body_size = 10;
  SUBCASE("plain") {
    HttpSession s(rec.handler(), l);
    s.feed("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\n");
    CHECK(take_all_output(s).rfind("HTTP/1.1 413 Content Too Large\r\n", 0) == 0);
    CHECK(s.closing());
  }
  SUBCASE("with Expect: 100-continue") {
    HttpSession s(rec.handler(), l);
    s.feed("POST / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 1000000\r\n\r\n");
    const std::string out = take_all_output(s);
    CHECK(out.find("100 Continue") == std::string::npos);
    CHECK(out.rfind("HTTP/1.1 413 ", 0) == 0);
  }
  SUBCASE("exactly at the limit is fine") {
    HttpSession s(rec.handler(), l);
    s.feed("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n0123456789");
    CHECK(take_all_output(s).rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
    REQUIRE(rec.seen.size() == 1);
    CHECK(rec.seen[0].body == "0123456789");
  }
}

TEST_CASE("max_body_size: a chunked body is counted as it arrives, split at every byte") {
  const std::string over = "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nabcdef\r\n5\r\nghijk\r\n0\r\n\r\n";
  const std::string at = "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nabcdef\r\n4\r\nghij\r\n0\r\n\r\n";
  HttpLimits l;
  l.max_body_size = 10;
  Recorder rec;
  HttpSession refused(rec.handler(), l);
  for (char c : over) refused.feed(std::string_view(&c, 1));
  CHECK(take_all_output(refused).rfind("HTTP/1.1 413 ", 0) == 0);
  CHECK(refused.closing());
  CHECK(rec.seen.empty());

  HttpSession accepted(rec.handler(), l);
  for (char c : at) accepted.feed(std::string_view(&c, 1));
  REQUIRE(rec.seen.size() == 1);
  CHECK(rec.seen[0].body == "abcdefghij");
}

TEST_CASE("max_header_size: the request line and headers may reach it, not pass it") {
  // Counted: the target and every header name and value (not the method, spaces or CRLFs).
  const std::string name = "X-Pad";
  HttpLimits l;
  l.max_header_size = 100;
  Recorder rec;
  const std::size_t counted = 1 + 4 + 1 + name.size();  // "/", "Host", "x", the name
  // With the value: 100 bytes.
  const std::string fits = "GET / HTTP/1.1\r\nHost: x\r\n" + name + ": " + std::string(100 - counted, 'a') + "\r\n\r\n";
  HttpSession ok(rec.handler(), l);
  ok.feed(fits);
  CHECK(take_all_output(ok).rfind("HTTP/1.1 200 ", 0) == 0);

  const std::string too_big = "GET / HTTP/1.1\r\nHost: x\r\n" + name + ": " + std::string(100 - counted + 1, 'a') + "\r\n\r\n";
  HttpSession refused(rec.handler(), l);
  for (char c : too_big) refused.feed(std::string_view(&c, 1));
  CHECK(take_all_output(refused).rfind("HTTP/1.1 431 Request Header Fields Too Large\r\n", 0) == 0);
  CHECK(refused.closing());
}

TEST_CASE("pipelining: chunked and Content-Length requests, split at every byte, are answered in order") {
  const std::string stream =
      "POST /1 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\none\r\n0\r\n\r\n"
      "POST /2 HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\ntwo"
      "GET /3 HTTP/1.1\r\nHost: x\r\n\r\n"
      "HEAD /4 HTTP/1.1\r\nHost: x\r\n\r\n"
      "POST /5 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nf\r\n4\r\nive!\r\n0\r\nTrailer: x\r\n\r\n";
  Recorder rec;
  HttpSession s(rec.handler(), {}, 5'000);
  std::string out;
  for (char c : stream) {
    s.feed(std::string_view(&c, 1));
    out += take_all_output(s);
  }
  REQUIRE(rec.seen.size() == 5);
  CHECK(rec.seen[0].body == "one");
  CHECK(rec.seen[1].body == "two");
  CHECK(rec.seen[3].method == "HEAD");
  CHECK(rec.seen[4].body == "five!");
  std::size_t pos = 0;
  for (const char* target : {"/1", "/2", "/3"}) {
    pos = out.find(std::string("you asked for ") + target, pos);
    CHECK(pos != std::string::npos);
  }
  CHECK(count(out, "HTTP/1.1 200 OK") == 5);
  CHECK(out.find("you asked for /4") == std::string::npos);  // HEAD: no body
  CHECK(out.substr(out.rfind("HTTP/1.1")).find("you asked for /5") != std::string::npos);
  CHECK_FALSE(s.closing());
}

TEST_CASE("request boundaries: the edge sees when a request begins and when its head is complete") {
  Recorder rec;
  HttpSession s(rec.handler());
  CHECK(s.requests_begun() == 0);
  CHECK(s.idle());
  CHECK_FALSE(s.receiving_head());
  s.feed("POST /a HTTP/1.1\r\nHost: x\r\nContent-");
  CHECK(s.requests_begun() == 1);
  CHECK(s.receiving_head());
  CHECK_FALSE(s.idle());
  s.feed("Length: 4\r\n\r\nab");
  CHECK_FALSE(s.receiving_head());  // the body is coming: request_timeout only
  CHECK_FALSE(s.idle());
  s.feed("cd");
  CHECK(s.idle());
  CHECK(s.requests() == 1);
  // CRLFs between requests (tolerated by llhttp) do not begin one.
  s.feed("\r\n");
  CHECK(s.requests_begun() == 1);
  s.feed("G");
  CHECK(s.requests_begun() == 2);
  CHECK(s.receiving_head());
}

TEST_CASE("408: only to a client in the middle of a request; an idle connection just closes") {
  Recorder rec;
  SUBCASE("idle after a response") {
    HttpSession s(rec.handler(), {}, 5'000);
    s.feed("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    (void)s.take_output();
    s.timeout();
    CHECK(s.closing());
    CHECK_FALSE(s.has_output());
  }
  SUBCASE("fresh, nothing sent") {
    HttpSession s(rec.handler());
    s.timeout();
    CHECK(s.closing());
    CHECK_FALSE(s.has_output());
  }
  SUBCASE("half a head") {
    HttpSession s(rec.handler());
    s.feed("GET / HTTP/1.1\r\nHost:");
    s.timeout();
    CHECK(take_all_output(s).rfind("HTTP/1.1 408 Request Timeout\r\n", 0) == 0);
  }
  SUBCASE("a head and half a body") {
    HttpSession s(rec.handler());
    s.feed("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nhalf");
    s.timeout();
    const std::string out = take_all_output(s);
    CHECK(out.rfind("HTTP/1.1 408 Request Timeout\r\n", 0) == 0);
    CHECK(out.find("Connection: close") != std::string::npos);
    CHECK(rec.seen.empty());
  }
}
