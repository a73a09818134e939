#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "supervisor/core/routing/request_head.h"

using namespace handoff;

namespace {

constexpr std::size_t kMax = 8192;

const std::string kHead =
    "POST /1/room/42?user=ann&x=&lang=fr HTTP/1.1\r\n"
    "Host: Example.com:8080\r\n"
    "User-Agent: test/1.0\r\n"
    "Cookie: sid=abc; room=\"42\"\r\n"
    "X-Room:   lobby \t \r\n"
    "Empty:\r\n"
    "Connection: keep-alive, Upgrade\r\n"
    "Content-Length: 5\r\n"
    "\r\n";

bool inside(std::string_view view, std::string_view buffer) {
  return view.data() >= buffer.data() && view.data() + view.size() <= buffer.data() + buffer.size();
}

HeadStatus status_of(std::string_view bytes, std::size_t max_head = kMax) {
  return parse_request_head(bytes, max_head).status;
}

}  // namespace

TEST_CASE("request head: a complete head gives views into the buffer, values trimmed") {
  const std::string bytes = kHead + "hello";
  const HeadParse p = parse_request_head(bytes, kMax);
  REQUIRE(p.status == HeadStatus::complete);
  const RequestHead& h = p.head;
  CHECK(h.method == "POST");
  CHECK(h.target == "/1/room/42?user=ann&x=&lang=fr");
  CHECK(h.path == "/1/room/42");
  CHECK(h.query == "user=ann&x=&lang=fr");
  CHECK(h.http_major == 1);
  CHECK(h.http_minor == 1);
  CHECK(h.bytes.size() == kHead.size());
  REQUIRE(h.headers.size() == 7);
  CHECK(h.headers[0].name == "Host");
  CHECK(h.headers[0].value == "Example.com:8080");
  CHECK(h.headers[3].name == "X-Room");
  CHECK(h.headers[3].value == "lobby");
  CHECK(h.headers[4].name == "Empty");
  CHECK(h.headers[4].value.empty());
  CHECK(h.headers[5].value == "keep-alive, Upgrade");
  for (const auto& sv : {h.method, h.target, h.path, h.query}) CHECK(inside(sv, bytes));
  for (const auto& hv : h.headers) {
    CHECK(inside(hv.name, bytes));
    CHECK(inside(hv.value, bytes));
  }
}

TEST_CASE("request head: header lookup is case-insensitive and finds the first") {
  const std::string bytes = "GET / HTTP/1.1\r\nX-Key: one\r\nx-key: two\r\nhOsT: h\r\n\r\n";
  const HeadParse p = parse_request_head(bytes, kMax);
  REQUIRE(p.status == HeadStatus::complete);
  CHECK(p.head.header("x-KEY") == "one");
  CHECK(p.head.header("Host") == "h");
  CHECK(p.head.header("HOST") == "h");
  CHECK_FALSE(p.head.header("Cookie").has_value());
  CHECK_FALSE(p.head.header("X-Ke").has_value());
}

TEST_CASE("request head: no query, HTTP/1.0, and a target with '?' but nothing after") {
  {
    const std::string bytes = "GET /a/b HTTP/1.0\r\n\r\n";
    const HeadParse p = parse_request_head(bytes, kMax);
    REQUIRE(p.status == HeadStatus::complete);
    CHECK(p.head.path == "/a/b");
    CHECK(p.head.query.empty());
    CHECK(p.head.http_minor == 0);
    CHECK(p.head.headers.empty());
    CHECK(p.head.bytes.size() == bytes.size());
  }
  {
    const std::string bytes = "GET /a? HTTP/1.1\r\n\r\n";
    const HeadParse p = parse_request_head(bytes, kMax);
    REQUIRE(p.status == HeadStatus::complete);
    CHECK(p.head.path == "/a");
    CHECK(p.head.query.empty());
  }
}

TEST_CASE("request head: every proper prefix of a head is incomplete, the whole is complete") {
  for (std::size_t n = 0; n < kHead.size(); ++n) {
    CAPTURE(n);
    // A fresh copy of exactly n bytes, so that nothing beyond them can be read (ASan).
    const std::string prefix = kHead.substr(0, n);
    CHECK(status_of(prefix) == HeadStatus::incomplete);
  }
  CHECK(status_of(kHead) == HeadStatus::complete);
}

TEST_CASE("request head: bytes after the head are never parsed") {
  // A body, a pipelined request, or garbage after the head change nothing.
  for (const std::string& after : std::vector<std::string>{"hello", "GET /next HTTP/1.1\r\n\r\n", std::string("\x00\xff garbage\r\n\r\n", 14)}) {
    const std::string bytes = kHead + after;
    const HeadParse p = parse_request_head(bytes, kMax);
    REQUIRE(p.status == HeadStatus::complete);
    CHECK(p.head.bytes.size() == kHead.size());
    CHECK(p.head.header("content-length") == "5");
  }
  // A chunked body after the head: its first chunk is not looked at.
  const std::string chunked = "POST /u HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz-not-a-chunk\r\n";
  CHECK(status_of(chunked) == HeadStatus::complete);
}

TEST_CASE("request head: line endings as llhttp takes them") {
  // Empty lines before the request line are skipped.
  {
    const std::string bytes = "\r\n\r\nGET /x HTTP/1.1\r\nHost: h\r\n\r\n";
    const HeadParse p = parse_request_head(bytes, kMax);
    REQUIRE(p.status == HeadStatus::complete);
    CHECK(p.head.path == "/x");
    CHECK(p.head.bytes.size() == bytes.size());
    CHECK(status_of("\r\n\r\n") == HeadStatus::incomplete);
    CHECK(status_of("\r\n\r\nGET /x HTTP/1.1\r\n") == HeadStatus::incomplete);
  }
  // A bare LF after the request line, and as the final empty line.
  CHECK(status_of("GET / HTTP/1.1\n\n") == HeadStatus::complete);
  CHECK(status_of("GET / HTTP/1.1\r\nHost: h\r\n\n") == HeadStatus::complete);
  CHECK(parse_request_head("GET / HTTP/1.1\r\nHost: h\r\n\nbody", kMax).head.bytes.size() == 26);
  // A bare LF after a header line is not taken.
  CHECK(status_of("GET / HTTP/1.1\r\nHost: h\n\r\n") == HeadStatus::malformed);
  CHECK(status_of("GET / HTTP/1.1\r\nHost: h\n\n") == HeadStatus::malformed);
  // A bare CR is not a line ending, nor does CR and another byte end the head (llhttp 8.1
  // takes "\rX" there; found by fuzzing).
  CHECK(status_of("GET / HTTP/1.1\rHost: h\r\n\r\n") == HeadStatus::malformed);
  CHECK(status_of("GET / HTTP/1.1\r\nA: b\r\n\rX\n\r\n") == HeadStatus::malformed);
  CHECK(status_of("GET / HTTP/1.1\r\nA: b\r\n\rXGET / HTTP/1.1\r\n\r\n") == HeadStatus::malformed);
}

TEST_CASE("request head: too_large at max_head bytes without an end, or a longer head") {
  const std::size_t max = kHead.size();
  // The head is exactly max bytes: fine.
  CHECK(status_of(kHead, max) == HeadStatus::complete);
  CHECK(status_of(kHead + "body", max) == HeadStatus::complete);
  // One byte less allowed: the same head is too large, however many bytes have arrived.
  CHECK(status_of(kHead.substr(0, max - 2), max - 1) == HeadStatus::incomplete);
  CHECK(status_of(kHead.substr(0, max - 1), max - 1) == HeadStatus::too_large);
  CHECK(status_of(kHead, max - 1) == HeadStatus::too_large);
  CHECK(status_of(kHead + "body", max - 1) == HeadStatus::too_large);
  // Garbage without an end of head waits until max_head, then is too large.
  const std::string endless(100, 'a');
  CHECK(status_of(endless.substr(0, 99), 100) == HeadStatus::incomplete);
  CHECK(status_of(endless, 100) == HeadStatus::too_large);
}

TEST_CASE("request head: what llhttp rejects is malformed") {
  const std::string_view cases[] = {
      "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",                         // HTTP/2 preface
      "PROXY TCP4 192.0.2.1 192.0.2.2 1000 80\r\nGET / HTTP/1.1\r\n\r\n",  // a PROXY line
      "\x16\x03\x01\x02\x10\x01\x10\x01\xfc\x03\x03\n\n",         // TLS-like bytes
      "get / HTTP/1.1\r\n\r\n",                                    // lowercase method
      "FOO / HTTP/1.1\r\n\r\n",                                    // unknown method
      " GET / HTTP/1.1\r\n\r\n",                                   // leading space
      "GET /a b HTTP/1.1\r\n\r\n",                                 // space in the target
      "GET / HTTP/1.1 \r\n\r\n",                                   // space after the version
      "GET / HTTP/1.2\r\n\r\n",                                    // unknown version
      "GET / HTTP/2.0\r\n\r\n",                                    // not HTTP/1.x
      "GET / HTTP/0.9\r\n\r\n",
      "GET /\r\n\r\n",                                             // HTTP/0.9 request line
      "GET / RTSP/1.0\r\n\r\n",                                    // llhttp 8 knows RTSP too
      "GET /caf\xc3\xa9 HTTP/1.1\r\n\r\n",                         // not ASCII in the target
      "GET /a\tb HTTP/1.1\r\n\r\n",                                // (llhttp's strict mode)
      "GET / HTTP/1.1\r\nHo(st: x\r\n\r\n",                        // invalid header names
      "GET / HTTP/1.1\r\nHost\r\n\r\n",
      "GET / HTTP/1.1\r\nHo st: x\r\n\r\n",
      "GET / HTTP/1.1\r\nHost : x\r\n\r\n",
      "GET / HTTP/1.1\r\n: x\r\n\r\n",
      "GET / HTTP/1.1\r\n\tX: y\r\n\r\n",                          // starts with a blank
      "GET / HTTP/1.1\r\nX: a\r\n folded\r\n\r\n",                 // obs-fold
      "GET / HTTP/1.1\r\nX:\r\n folded\r\n\r\n",
      "GET / HTTP/1.1\r\nX: a\x01z\r\n\r\n",                       // control character in a value
      "GET / HTTP/1.1\r\nX: a\x7fz\r\n\r\n",
      "POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
      "POST / HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
      "POST / HTTP/1.1\r\nContent-Length: x\r\n\r\n",
      "POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n",       // checked after the head
  };
  for (const std::string_view c : cases) {
    CAPTURE(c);
    CHECK(status_of(c) == HeadStatus::malformed);
  }
}

TEST_CASE("request head: accepted oddities") {
  // UTF-8 in a value, HTAB inside a value, upgrades, CONNECT.
  CHECK(status_of("GET /cafe HTTP/1.1\r\nX: caf\xc3\xa9\r\n\r\n") == HeadStatus::complete);
  CHECK(parse_request_head("GET / HTTP/1.1\r\nX: a\tb\r\n\r\n", kMax).head.header("x") == "a\tb");
  CHECK(status_of("GET /chat HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n\x81\x05") ==
        HeadStatus::complete);
  const HeadParse connect = parse_request_head("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com\r\n\r\n", kMax);
  REQUIRE(connect.status == HeadStatus::complete);
  CHECK(connect.head.target == "example.com:443");
  CHECK(connect.head.path == "example.com:443");
  // Absolute-form: the target as sent (path is the target up to '?').
  const HeadParse absolute = parse_request_head("GET http://h/a/b?c=1 HTTP/1.1\r\n\r\n", kMax);
  REQUIRE(absolute.status == HeadStatus::complete);
  CHECK(absolute.head.path == "http://h/a/b");
  CHECK(absolute.head.query == "c=1");
}

TEST_CASE("request head: a head split anywhere across two reads parses the same when whole") {
  // The caller keeps the bytes and calls again with all of them; every split point of
  // the first read is incomplete and the whole is identical to a single read.
  const std::string bytes = kHead + "hello";
  const HeadParse whole = parse_request_head(bytes, kMax);
  REQUIRE(whole.status == HeadStatus::complete);
  for (std::size_t split = 1; split < kHead.size(); ++split) {
    std::string buffer = bytes.substr(0, split);
    REQUIRE(parse_request_head(buffer, kMax).status == HeadStatus::incomplete);
    buffer += bytes.substr(split);
    const HeadParse again = parse_request_head(buffer, kMax);
    REQUIRE(again.status == HeadStatus::complete);
    REQUIRE(again.head.headers.size() == whole.head.headers.size());
    for (std::size_t i = 0; i < whole.head.headers.size(); ++i) {
      CHECK(again.head.headers[i].name == whole.head.headers[i].name);
      CHECK(again.head.headers[i].value == whole.head.headers[i].value);
    }
  }
}

TEST_CASE("request head: bytes that cannot start a request are malformed before any end of head") {
  CHECK(parse_request_head("\x16\x03\x01\x02\x00\x01", 1024).status == HeadStatus::malformed);
  CHECK(parse_request_head("GE(T / HTTP/1.1\r\n", 1024).status == HeadStatus::malformed);
  CHECK(parse_request_head("\r\nGET", 1024).status == HeadStatus::incomplete);
  CHECK(parse_request_head("GET /x HT", 1024).status == HeadStatus::incomplete);
  CHECK(parse_request_head("", 1024).status == HeadStatus::incomplete);
}
