// HttpSession against the request-head rules of RFC 9112 that a server MUST enforce with a
// 400 (and, as Node's server does, the connection closed after it), with the real llhttp
// parser. Every head is also fed in two reads cut at each byte, and a byte at a time: a
// rule must not depend on where a read ends.
#include "worker-sdk/cpp/src/http_session.h"

#include <doctest/doctest.h>

#include <string>
#include <string_view>
#include <vector>

#include "tests/unit/support.h"

using handoff::test::take_all_output;

using namespace handoff;

namespace {

// What a session wrote for `reads`, and how many requests reached the handler.
struct Outcome {
  std::string out;
  std::size_t handled = 0;
  bool closing = false;
};

Outcome serve(const std::vector<std::string_view>& reads) {
  Outcome o;
  HttpSession s([&o](const Request&) {
    ++o.handled;
    return Response{.status = 200, .headers = {}, .body = "ok"};
  });
  for (const auto read : reads) s.feed(read);
  o.out = take_all_output(s);
  o.closing = s.closing();
  return o;
}

// `bytes` in two reads cut at each byte, then in reads of one byte.
std::vector<Outcome> serve_split(std::string_view bytes) {
  std::vector<Outcome> outcomes;
  for (std::size_t cut = 0; cut <= bytes.size(); ++cut)
    outcomes.push_back(serve({bytes.substr(0, cut), bytes.substr(cut)}));
  std::vector<std::string_view> bytewise;
  for (std::size_t i = 0; i < bytes.size(); ++i) bytewise.push_back(bytes.substr(i, 1));
  outcomes.push_back(serve(bytewise));
  return outcomes;
}

// However the reads are cut: a 400 that closes, and the handler never called.
void check_rejected(std::string_view head) {
  for (const Outcome& o : serve_split(head)) {
    CAPTURE(o.out);
    CHECK(o.handled == 0);
    CHECK(o.out.starts_with("HTTP/1.1 400 Bad Request\r\n"));
    CHECK(o.out.find("\r\nConnection: close\r\n") != std::string::npos);
    CHECK(o.closing);
  }
}

// However the reads are cut: answered by the handler.
void check_served(std::string_view head) {
  for (const Outcome& o : serve_split(head)) {
    CAPTURE(o.out);
    CHECK(o.handled == 1);
    CHECK(o.out.starts_with("HTTP/1.1 200 OK\r\n"));
  }
}

}  // namespace

TEST_CASE("RFC 9112 5.1: whitespace between a field name and its colon gets 400") {
  SUBCASE("a space") { check_rejected("GET / HTTP/1.1\r\nHost : x\r\n\r\n"); }
  SUBCASE("spaces") { check_rejected("GET / HTTP/1.1\r\nHost: x\r\nX-A   : 1\r\n\r\n"); }
  SUBCASE("a tab") { check_rejected("GET / HTTP/1.1\r\nHost: x\r\nX-A\t: 1\r\n\r\n"); }
  SUBCASE("whitespace after the colon is allowed") { check_served("GET / HTTP/1.1\r\nHost:  \t x \t\r\n\r\n"); }
}

TEST_CASE("RFC 9112 5.1: a field line without a name gets 400") {
  check_rejected("GET / HTTP/1.1\r\nHost: x\r\n: 1\r\n\r\n");
  check_rejected("GET / HTTP/1.1\r\n:\r\nHost: x\r\n\r\n");
}

// llhttp built strict (CMakeLists.txt) also refuses a CR that does not end a line and a
// request target that is not printable ASCII, as Node's llhttp 9 does.
TEST_CASE("llhttp strict mode: a CR without LF, and a target that is not printable ASCII, get 400") {
  SUBCASE("CR then another byte ending a field line") { check_rejected("GET / HTTP/1.1\r\nHost: x\r\rX-A: 1\r\n\r\n"); }
  SUBCASE("CR then another byte ending the head") { check_rejected("GET / HTTP/1.1\r\nHost: x\r\n\rX"); }
  SUBCASE("raw UTF-8 in the target") { check_rejected("GET /caf\xc3\xa9 HTTP/1.1\r\nHost: x\r\n\r\n"); }
  SUBCASE("a tab in the target") { check_rejected("GET /a\tb HTTP/1.1\r\nHost: x\r\n\r\n"); }
  SUBCASE("UTF-8 in a value is allowed") { check_served("GET / HTTP/1.1\r\nHost: x\r\nX-A: caf\xc3\xa9\r\n\r\n"); }
}

TEST_CASE("RFC 9112 5.2: a field line that begins with a blank (obs-fold, or before the first field) gets 400") {
  SUBCASE("folded with a space") { check_rejected("GET / HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n 2\r\n\r\n"); }
  SUBCASE("folded with a tab") { check_rejected("GET / HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n\t2\r\n\r\n"); }
  SUBCASE("folded after an empty value") { check_rejected("GET / HTTP/1.1\r\nHost: x\r\nX-A:\r\n \t 2\r\n\r\n"); }
  SUBCASE("a folded Host") { check_rejected("GET / HTTP/1.1\r\nHost: x\r\n y\r\n\r\n"); }
  SUBCASE("a fold of blanks only") { check_rejected("GET / HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n \r\n\r\n"); }
  SUBCASE("folded in a chunked trailer") {
    check_rejected("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n0\r\nT: 1\r\n 2\r\n\r\n");
  }
  SUBCASE("blanks inside and around values are not folds") {
    check_served("GET / HTTP/1.1\r\nHost: x\r\nX-A: 1 \t 2 \r\nX-B:\r\nX-C: \t\r\nX-D:\t3\r\n\r\n");
  }
  SUBCASE("whitespace before the first field (RFC 9112 2.2)") {
    check_rejected("GET / HTTP/1.1\r\n Host: x\r\n\r\n");
  }
}

TEST_CASE("RFC 9112 3.2: an HTTP/1.1 request needs exactly one Host") {
  SUBCASE("none") { check_rejected("GET / HTTP/1.1\r\nX-A: 1\r\n\r\n"); }
  SUBCASE("two") { check_rejected("GET / HTTP/1.1\r\nHost: x\r\nHost: x\r\n\r\n"); }
  SUBCASE("two, names in other cases") { check_rejected("GET / HTTP/1.1\r\nhost: x\r\nX-A: 1\r\nHOST: y\r\n\r\n"); }
  SUBCASE("two in HTTP/1.0 as well") { check_rejected("GET / HTTP/1.0\r\nHost: x\r\nHost: y\r\n\r\n"); }
  SUBCASE("one, empty (a target without an authority)") { check_served("GET / HTTP/1.1\r\nHost:\r\n\r\n"); }
  SUBCASE("HTTP/1.0 without Host is served") { check_served("GET / HTTP/1.0\r\n\r\n"); }
}

TEST_CASE("RFC 9112: a bad head behind a good request: the good one is answered, then 400 and close") {
  int handled = 0;
  HttpSession s([&handled](const Request&) {
    ++handled;
    return Response{.status = 200, .headers = {}, .body = "ok"};
  });
  s.feed("GET /ok HTTP/1.1\r\nHost: x\r\n\r\n"
         "GET /bad HTTP/1.1\r\nHost: x\r\nX-A\t: 1\r\n\r\n"
         "GET /after HTTP/1.1\r\nHost: x\r\n\r\n");
  const std::string out = take_all_output(s);
  CHECK(handled == 1);
  CHECK(s.closing());
  const auto ok = out.find("HTTP/1.1 200 OK\r\n"), bad = out.find("HTTP/1.1 400 Bad Request\r\n");
  REQUIRE(ok != std::string::npos);
  REQUIRE(bad != std::string::npos);
  CHECK(ok < bad);
  CHECK(handoff::test::count(out, "HTTP/1.1 ") == 2);  // nothing for /after
}
