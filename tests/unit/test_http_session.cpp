// HttpSession with the real llhttp parser: bytes in, response bytes out.
#include "worker-sdk/cpp/src/http_session.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "tests/unit/support.h"

using handoff::test::take_all_output;
using handoff::test::count;

using namespace handoff;

namespace {

// Records every request the handler saw and answers with a body naming the target.
struct Recorder {
  std::vector<Request> seen;
  Handler handler() {
    return [this](const Request& r) {
      seen.push_back(r);
      Response res;
      res.headers.push_back({"X-Test", "yes"});
      res.body = "you asked for " + r.target;
      return res;
    };
  }
};



}  // namespace

TEST_CASE("http session: simple GET gets 200 with Content-Length and body") {
  Recorder rec;
  HttpSession s(rec.handler());
  s.feed("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
  const std::string out = take_all_output(s);
  CHECK(out ==
        "HTTP/1.1 200 OK\r\nX-Test: yes\r\nContent-Length: 20\r\n\r\n"
        "you asked for /hello");
  REQUIRE(rec.seen.size() == 1);
  CHECK(rec.seen[0].method == "GET");
  CHECK(rec.seen[0].http_major == 1);
  CHECK(rec.seen[0].http_minor == 1);
  CHECK(rec.seen[0].header("HOST") == "x");
  CHECK(rec.seen[0].header("absent").empty());
  CHECK_FALSE(s.closing());
  CHECK(s.idle());
}

TEST_CASE("http session: every request carries the peer it was given (the client's address and port)") {
  Recorder rec;
  HttpSession s(rec.handler());
  s.set_peer("203.0.113.7", 41234);
  s.feed("GET /one HTTP/1.1\r\nHost: x\r\n\r\nGET /two HTTP/1.1\r\nHost: x\r\n\r\n");
  (void)take_all_output(s);
  REQUIRE(rec.seen.size() == 2);
  for (const auto& r : rec.seen) {
    CHECK(r.remote_address == "203.0.113.7");
    CHECK(r.remote_port == 41234);
  }
  Recorder none;
  HttpSession unknown(none.handler());
  unknown.feed("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  (void)take_all_output(unknown);
  REQUIRE(none.seen.size() == 1);
  CHECK(none.seen[0].remote_address.empty());
  CHECK(none.seen[0].remote_port == 0);
}

TEST_CASE("http session: pipelined keep-alive requests are answered in order") {
  Recorder rec;
  HttpSession s(rec.handler());
  s.feed("GET /one HTTP/1.1\r\nHost: x\r\n\r\nGET /two HTTP/1.1\r\nHost: x\r\n\r\nGET /three HTTP/1.1\r\nHost: x\r\n\r\n");
  const std::string out = take_all_output(s);
  const auto one = out.find("/one"), two = out.find("/two"), three = out.find("/three");
  REQUIRE(one != std::string::npos);
  REQUIRE(two != std::string::npos);
  REQUIRE(three != std::string::npos);
  CHECK(one < two);
  CHECK(two < three);
  CHECK(count(out, "HTTP/1.1 200 OK") == 3);
  CHECK(s.requests() == 3);
  CHECK_FALSE(s.closing());
}

TEST_CASE("http session: a request split at every byte is parsed whole") {
  const std::string request = "POST /split HTTP/1.1\r\nHost: x\r\nX-Long-Header: abcdef\r\nContent-Length: 5\r\n\r\nhello";
  Recorder rec;
  HttpSession s(rec.handler());
  for (char c : request) s.feed(std::string_view(&c, 1));
  REQUIRE(rec.seen.size() == 1);
  CHECK(rec.seen[0].target == "/split");
  CHECK(rec.seen[0].header("x-long-header") == "abcdef");
  CHECK(rec.seen[0].body == "hello");
  CHECK(rec.seen[0].headers.size() == 3);
}

TEST_CASE("http session: chunked body split at every byte boundary arrives whole") {
  const std::string head = "POST /chunked HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
  const std::string chunks = "5\r\nhello\r\n1;ext=1\r\n,\r\n6\r\n world\r\n0\r\nTrailer: t\r\n\r\n";
  const std::string request = head + chunks;
  // Every split point: the first part, then the rest.
  for (std::size_t cut = 1; cut < request.size(); ++cut) {
    Recorder rec;
    HttpSession s(rec.handler());
    s.feed(std::string_view(request).substr(0, cut));
    s.feed(std::string_view(request).substr(cut));
    REQUIRE(rec.seen.size() == 1);
    CHECK(rec.seen[0].body == "hello, world");
    // The trailer is not a header of the request.
    CHECK(rec.seen[0].header("trailer").empty());
    CHECK_FALSE(s.closing());
  }
}

TEST_CASE("http session: Content-Length body split across feeds") {
  Recorder rec;
  HttpSession s(rec.handler());
  s.feed("PUT /cl HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n0123");
  CHECK(rec.seen.empty());
  CHECK_FALSE(s.idle());  // a request is under way: the request timeout applies
  CHECK_FALSE(s.has_output());
  s.feed("456");
  CHECK(rec.seen.empty());
  s.feed("789GET /next HTTP/1.1\r\nHost: x\r\n\r\n");
  REQUIRE(rec.seen.size() == 2);
  CHECK(rec.seen[0].body == "0123456789");
  CHECK(rec.seen[1].target == "/next");
  CHECK(rec.seen[1].body.empty());
}

TEST_CASE("http session: HTTP/1.0 closes unless keep-alive is asked for") {
  SUBCASE("plain 1.0 closes") {
    Recorder rec;
    HttpSession s(rec.handler());
    s.feed("GET /a HTTP/1.0\r\n\r\nGET /b HTTP/1.0\r\n\r\n");
    const std::string out = take_all_output(s);
    CHECK(s.closing());
    CHECK(out.find("Connection: close\r\n") != std::string::npos);
    REQUIRE(rec.seen.size() == 1);  // nothing after a closing exchange is served
    CHECK(rec.seen[0].http_minor == 0);
  }
  SUBCASE("1.0 with keep-alive stays open and says so") {
    Recorder rec;
    HttpSession s(rec.handler());
    s.feed("GET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    const std::string out = take_all_output(s);
    CHECK_FALSE(s.closing());
    CHECK(out.find("Connection: keep-alive\r\n") != std::string::npos);
    s.feed("GET /b HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n");
    CHECK(rec.seen.size() == 2);
  }
}

TEST_CASE("http session: Connection: close from the client is honoured") {
  Recorder rec;
  HttpSession s(rec.handler());
  s.feed("GET /last HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\nGET /never HTTP/1.1\r\nHost: x\r\n\r\n");
  const std::string out = take_all_output(s);
  CHECK(s.closing());
  CHECK(out.find("Connection: close\r\n") != std::string::npos);
  CHECK(out.find("/never") == std::string::npos);
  CHECK(rec.seen.size() == 1);
  s.feed("GET /after HTTP/1.1\r\nHost: x\r\n\r\n");
  CHECK_FALSE(s.has_output());
}

TEST_CASE("http session: Connection: close from the handler is honoured") {
  HttpSession s([](const Request&) {
    Response r;
    r.headers.push_back({"Connection", "Close"});
    r.body = "bye";
    return r;
  });
  s.feed("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  const std::string out = take_all_output(s);
  CHECK(s.closing());
  CHECK(count(out, "Connection:") == 1);  // ours, not a duplicate of the handler's
  CHECK(out.find("Connection: close\r\n") != std::string::npos);
}

TEST_CASE("http session: HEAD has Content-Length but no body") {
  Recorder rec;
  HttpSession s(rec.handler());
  s.feed("HEAD /h HTTP/1.1\r\nHost: x\r\n\r\nGET /g HTTP/1.1\r\nHost: x\r\n\r\n");
  auto out = s.take_output();
  REQUIRE(out.size() == 2);
  CHECK(out[0].head.find("Content-Length: 16\r\n") != std::string::npos);  // "you asked for /h"
  CHECK(out[0].body.empty());
  CHECK(out[1].body == "you asked for /g");
  CHECK(rec.seen[0].method == "HEAD");
}

TEST_CASE("http session: malformed request gets 400 and closes") {
  Recorder rec;
  HttpSession s(rec.handler());
  s.feed("GET /ok HTTP/1.1\r\nHost: x\r\n\r\nthis is not http\r\n\r\n");
  const std::string out = take_all_output(s);
  CHECK(s.closing());
  REQUIRE(rec.seen.size() == 1);  // the good request before it was still answered, first
  const auto ok = out.find("HTTP/1.1 200 OK"), bad = out.find("HTTP/1.1 400 Bad Request");
  REQUIRE(ok != std::string::npos);
  REQUIRE(bad != std::string::npos);
  CHECK(ok < bad);
  CHECK(out.find("Connection: close", bad) != std::string::npos);
}

TEST_CASE("http session: handler headers appear, framing headers are the SDK's") {
  HttpSession s([](const Request&) {
    Response r;
    r.status = 201;
    r.headers.push_back({"Content-Type", "application/json"});
    r.headers.push_back({"Set-Cookie", "a=1"});
    r.headers.push_back({"Set-Cookie", "b=2"});
    r.headers.push_back({"Content-Length", "999"});
    r.headers.push_back({"X-Evil", "1\r\nInjected: yes"});
    r.body = "{}";
    return r;
  });
  s.feed("POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n");
  const std::string out = take_all_output(s);
  CHECK(out.rfind("HTTP/1.1 201 Created\r\n", 0) == 0);
  CHECK(out.find("Content-Type: application/json\r\n") != std::string::npos);
  CHECK(out.find("Set-Cookie: a=1\r\nSet-Cookie: b=2\r\n") != std::string::npos);
  CHECK(out.find("Content-Length: 2\r\n") != std::string::npos);
  CHECK(out.find("999") == std::string::npos);
  CHECK(out.find("Injected") == std::string::npos);
}

TEST_CASE("http session: Expect: 100-continue gets an interim response first") {
  Recorder rec;
  HttpSession s(rec.handler());
  s.feed("POST /up HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n");
  auto interim = s.take_output();
  REQUIRE(interim.size() == 1);
  CHECK(interim[0].head == "HTTP/1.1 100 Continue\r\n\r\n");
  s.feed("abc");
  REQUIRE(rec.seen.size() == 1);
  CHECK(rec.seen[0].body == "abc");
}

TEST_CASE("http session: limits answer 431 and 413 and close") {
  Recorder rec;
  SUBCASE("head too large") {
    HttpSession s(rec.handler(), HttpLimits{.max_header_size = 64, .max_body_size = 1024});
    s.feed("GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(100, 'a') + "\r\n\r\n");
    CHECK(take_all_output(s).rfind("HTTP/1.1 431 ", 0) == 0);
    CHECK(s.closing());
  }
  SUBCASE("body too large") {
    HttpSession s(rec.handler(), HttpLimits{.max_header_size = 1024, .max_body_size = 4});
    s.feed("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello");
    CHECK(take_all_output(s).rfind("HTTP/1.1 413 ", 0) == 0);
    CHECK(s.closing());
  }
  CHECK(rec.seen.empty());
}

TEST_CASE("http session: a throwing handler costs a 500, not the connection") {
  int calls = 0;
  HttpSession s([&](const Request&) -> Response {
    if (++calls == 1) throw std::runtime_error("boom");
    return Response{};
  });
  s.feed("GET /1 HTTP/1.1\r\nHost: x\r\n\r\nGET /2 HTTP/1.1\r\nHost: x\r\n\r\n");
  const std::string out = take_all_output(s);
  CHECK(out.rfind("HTTP/1.1 500 ", 0) == 0);
  CHECK(out.find("HTTP/1.1 200 OK") != std::string::npos);
  CHECK_FALSE(s.closing());
}

TEST_CASE("http session: timeout mid-request answers 408; EOF ends the session") {
  Recorder rec;
  HttpSession s(rec.handler());
  s.feed("GET /slow HTTP/1.1\r\nHost: x\r\nHo");
  s.timeout();
  CHECK(take_all_output(s).rfind("HTTP/1.1 408 Request Timeout\r\n", 0) == 0);
  CHECK(s.closing());

  HttpSession t(rec.handler());
  t.finish();
  CHECK(t.closing());
  t.feed("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  CHECK_FALSE(t.has_output());
}

TEST_CASE("http session: an upgrade request is answered, then the connection closes") {
  Recorder rec;
  HttpSession s(rec.handler());
  s.feed("GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n\x81\x05hello");
  CHECK(rec.seen.size() == 1);
  CHECK(s.closing());
  CHECK(take_all_output(s).find("Connection: close") != std::string::npos);
}

TEST_CASE("http session: pipelined output pauses parsing and resumes in order") {
  Recorder rec;
  HttpSession s(rec.handler(), HttpLimits{.max_header_size = 1024, .max_body_size = 1024, .max_pending_output = 100});
  std::string pipeline;
  for (int i = 0; i < 10; ++i) pipeline += "GET /" + std::to_string(i) + " HTTP/1.1\r\nHost: x\r\n\r\n";
  // Half now, the rest arriving while paused.
  const std::size_t half = pipeline.size() / 2;
  s.feed(std::string_view(pipeline).substr(0, half));
  REQUIRE(s.paused());
  const std::size_t first_batch = rec.seen.size();
  CHECK(first_batch < 10);
  s.feed(std::string_view(pipeline).substr(half));
  CHECK(rec.seen.size() == first_batch);  // held, not parsed
  std::string out = take_all_output(s);
  int rounds = 0;
  while (s.paused() && rounds++ < 20) {
    s.resume();
    out += take_all_output(s);
  }
  CHECK_FALSE(s.paused());
  REQUIRE(rec.seen.size() == 10);
  for (int i = 0; i < 10; ++i) CHECK(rec.seen[i].target == std::string("/").append(std::to_string(i)));  // (GCC 12 -Wrestrict, bug 105329)
  std::size_t pos = 0;
  for (int i = 0; i < 10; ++i) {
    pos = out.find("you asked for /" + std::to_string(i), pos);
    CHECK(pos != std::string::npos);
  }
  CHECK(rounds > 1);
}

TEST_CASE("http session: EOF while paused still answers what was received") {
  Recorder rec;
  HttpSession s(rec.handler(), HttpLimits{.max_header_size = 1024, .max_body_size = 1024, .max_pending_output = 1});
  s.feed("GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\nGET /c HTTP/1.1\r\nHost: x\r\n\r\nGET /partial HTTP/1.1\r\nHost: x\r\n");
  s.finish();
  CHECK_FALSE(s.closing());
  for (int rounds = 0; s.paused() && rounds < 20; ++rounds) {  // bounded: a bug must fail, not hang
    (void)s.take_output();
    s.resume();
  }
  CHECK(s.closing());
  REQUIRE(rec.seen.size() == 3);
  CHECK(rec.seen[2].target == "/c");
}

TEST_CASE("http session: close() drops held requests") {
  Recorder rec;
  HttpSession s(rec.handler(), HttpLimits{.max_header_size = 1024, .max_body_size = 1024, .max_pending_output = 1});
  s.feed("GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n");
  REQUIRE(s.paused());
  s.close();
  s.resume();
  CHECK(s.closing());
  CHECK(rec.seen.size() == 1);
}
