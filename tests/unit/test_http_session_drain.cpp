// HttpSession while draining, and with an AsyncHandler: the decisions the I/O edge only
// carries out (which response says `Connection: close`, when a connection may close).
#include "worker-sdk/cpp/src/http_session.h"

#include <doctest/doctest.h>

#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

using namespace handoff;

namespace {

Response answer(const Request& r) {
  Response res;
  res.body = "you asked for " + r.target;
  return res;
}

// Every response taken so far, one string each (head + body), in order.
std::vector<std::string> responses(HttpSession& s) {
  std::vector<std::string> all;
  for (auto& r : s.take_output()) all.push_back(r.head + r.body);
  return all;
}

bool says_close(const std::string& response) { return response.find("Connection: close\r\n") != std::string::npos; }

std::string get(std::string_view path) { return "GET " + std::string(path) + " HTTP/1.1\r\nHost: x\r\n\r\n"; }

// An AsyncHandler that keeps every Responder, to answer when the test says.
struct Deferred {
  std::vector<std::string> targets;
  std::vector<Responder> responders;
  AsyncHandler handler() {
    return [this](const Request& r, Responder responder) {
      targets.push_back(r.target);
      responders.push_back(responder);
    };
  }
  void answer(std::size_t i) {
    Response res;
    res.body = "late " + targets.at(i);
    responders.at(i).send(std::move(res));
  }
};

}  // namespace

TEST_CASE("drain: the request in progress is answered with Connection: close, then the session closes") {
  HttpSession s(answer);
  s.feed("GET /in-progress HTTP/1.1\r\nHo");
  s.drain();
  CHECK_FALSE(s.closable());  // a request has begun
  s.feed("st: x\r\n\r\n");
  const auto out = responses(s);
  REQUIRE(out.size() == 1);
  CHECK(out[0].find("you asked for /in-progress") != std::string::npos);
  CHECK(says_close(out[0]));
  CHECK(s.closing());
  CHECK_FALSE(s.closable());  // closing already: the edge's FIN path, not the quiet close
}

TEST_CASE("drain: a fresh session is not closable, and serves its first request with close") {
  HttpSession s(answer);
  s.drain();
  CHECK(s.idle());
  CHECK_FALSE(s.closable());
  s.feed(get("/first"));
  const auto out = responses(s);
  REQUIRE(out.size() == 1);
  CHECK(says_close(out[0]));
  CHECK(s.closing());
  CHECK(s.requests() == 1);
}

TEST_CASE("drain: an idle keep-alive session is closable; a request that still comes says close") {
  HttpSession s(answer);
  s.feed(get("/before"));
  CHECK_FALSE(says_close(responses(s).at(0)));
  CHECK_FALSE(s.closable());  // not draining yet
  s.drain();
  CHECK(s.closable());
  s.feed("GET /late HT");  // begun within the grace: no longer closable
  CHECK_FALSE(s.closable());
  s.feed("TP/1.1\r\n\r\n");
  const auto out = responses(s);
  REQUIRE(out.size() == 1);
  CHECK(says_close(out[0]));
  CHECK(s.closing());
}

TEST_CASE("drain with handback: the session that may go back is the idle keep-alive one, and it owes nothing") {
  // The edge hands a draining connection back when closable() (and its writes are done):
  // nothing of a next request read, nothing owed. The head it sends is then empty.
  HttpSession s(answer);
  s.check_requests([](const Request&) { return true; });  // supervised: a route check is set
  s.feed(get("/one") + get("/two"));  // pipelined, before the drain: both keep-alive
  const auto out = responses(s);
  REQUIRE(out.size() == 2);
  CHECK_FALSE(says_close(out[1]));
  s.drain();
  CHECK(s.closable());
  CHECK_FALSE(s.handing_back());  // not a route handback: nothing was parsed for elsewhere
  CHECK(s.take_handback_bytes().empty());
  CHECK_FALSE(s.has_output());
}

TEST_CASE("drain with handback: a response awaited at the drain keeps the session; it closes after it") {
  Deferred d;
  HttpSession s(d.handler());
  s.feed(get("/slow"));
  s.drain();
  CHECK_FALSE(s.closable());  // owed: never handed back with a response pending
  d.answer(0);
  const auto out = responses(s);
  REQUIRE(out.size() == 1);
  CHECK(says_close(out[0]));
  CHECK(s.closing());
  CHECK_FALSE(s.closable());
}

TEST_CASE("drain: pipelined requests already buffered are all answered in order; the last says close") {
  HttpSession s(answer);
  s.feed(get("/warm-up"));
  (void)responses(s);
  s.drain();
  s.feed(get("/1") + get("/2") + get("/3"));
  const auto out = responses(s);
  REQUIRE(out.size() == 3);
  for (int i = 0; i < 3; ++i) CHECK(out[i].find("you asked for /" + std::to_string(i + 1)) != std::string::npos);
  CHECK_FALSE(says_close(out[0]));
  CHECK_FALSE(says_close(out[1]));
  CHECK(says_close(out[2]));
  CHECK(s.closing());
  s.feed(get("/after"));  // nothing after the closing exchange is served
  CHECK_FALSE(s.has_output());
}

TEST_CASE("drain: a next request begun behind a response keeps the connection, and gets the close") {
  HttpSession s(answer);
  s.drain();
  s.feed(get("/a") + "GET /b HTTP/1.1\r\nHo");
  auto out = responses(s);
  REQUIRE(out.size() == 1);
  CHECK_FALSE(says_close(out[0]));  // /b is on its way
  CHECK_FALSE(s.closable());
  CHECK_FALSE(s.idle());
  s.feed("st: x\r\n\r\n");
  out = responses(s);
  REQUIRE(out.size() == 1);
  CHECK(out[0].find("you asked for /b") != std::string::npos);
  CHECK(says_close(out[0]));
}

TEST_CASE("drain: requests held by back-pressure are answered on resume; the last says close") {
  HttpSession s(answer, HttpLimits{.max_header_size = 1024, .max_body_size = 1024, .max_pending_output = 1});
  s.feed(get("/1") + get("/2") + get("/3"));
  REQUIRE(s.paused());
  s.drain();
  CHECK_FALSE(s.closable());  // bytes are held
  std::vector<std::string> out = responses(s);
  for (int rounds = 0; s.paused() && rounds < 10; ++rounds) {
    s.resume();
    for (auto& r : responses(s)) out.push_back(std::move(r));
  }
  REQUIRE(out.size() == 3);
  CHECK_FALSE(says_close(out[0]));
  CHECK_FALSE(says_close(out[1]));
  CHECK(says_close(out[2]));
  CHECK(out[2].find("/3") != std::string::npos);
  CHECK(s.closing());
}

TEST_CASE("drain: a Connection: close from the client still closes at once") {
  HttpSession s(answer);
  s.drain();
  s.feed("GET /bye HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" + get("/never"));
  const auto out = responses(s);
  REQUIRE(out.size() == 1);
  CHECK(says_close(out[0]));
  CHECK(s.closing());
}

TEST_CASE("async: a later answer is written in order, and parsing waits for it") {
  Deferred d;
  HttpSession s(d.handler());
  int woken = 0;
  s.on_async_output([&] { ++woken; });
  s.feed(get("/1") + get("/2"));
  REQUIRE(d.targets.size() == 1);  // /2 is held until /1 is answered
  CHECK(s.waiting());
  CHECK_FALSE(s.idle());
  CHECK_FALSE(s.has_output());
  s.feed(get("/3"));  // arriving meanwhile: held too
  CHECK(d.targets.size() == 1);

  d.answer(0);
  CHECK(woken == 1);
  REQUIRE(d.targets.size() == 2);
  d.answer(1);
  REQUIRE(d.targets.size() == 3);
  d.answer(2);
  const auto out = responses(s);
  REQUIRE(out.size() == 3);
  for (int i = 0; i < 3; ++i) CHECK(out[i].find("late /" + std::to_string(i + 1)) != std::string::npos);
  CHECK_FALSE(s.waiting());
  CHECK(s.idle());
  CHECK(s.requests() == 3);

  d.answer(0);  // a second send() for the same request does nothing
  CHECK_FALSE(s.has_output());
  CHECK(woken == 3);
}

TEST_CASE("async: answered inside the handler, it behaves as a synchronous one") {
  int woken = 0;
  HttpSession s([](const Request& r, Responder responder) { responder.send(answer(r)); });
  s.on_async_output([&] { ++woken; });
  s.feed(get("/a") + get("/b"));
  const auto out = responses(s);
  REQUIRE(out.size() == 2);
  CHECK(out[1].find("/b") != std::string::npos);
  CHECK(woken == 0);  // feed()'s caller writes it
}

TEST_CASE("async: drained while a response is awaited, that response says close") {
  Deferred d;
  HttpSession s(d.handler());
  s.feed(get("/slow"));
  s.drain();
  CHECK_FALSE(s.closable());
  d.answer(0);
  const auto out = responses(s);
  REQUIRE(out.size() == 1);
  CHECK(says_close(out[0]));
  CHECK(s.closing());
}

TEST_CASE("async: EOF while awaiting still gets the answer; a send after close() does nothing") {
  Deferred d;
  HttpSession s(d.handler());
  s.feed(get("/x"));
  s.finish();
  CHECK_FALSE(s.closing());
  d.answer(0);
  CHECK(responses(s).size() == 1);
  CHECK(s.closing());

  Deferred e;
  std::optional<HttpSession> t(std::in_place, e.handler());
  t->feed(get("/y"));
  t->close();
  e.answer(0);
  CHECK_FALSE(t->has_output());
  t.reset();
  e.answer(0);  // the session is gone: still nothing happens
}

TEST_CASE("async: a handler that throws before answering costs a 500") {
  HttpSession s([](const Request&, Responder) { throw std::runtime_error("boom"); });
  s.feed(get("/x"));
  const auto out = responses(s);
  REQUIRE(out.size() == 1);
  CHECK(out[0].rfind("HTTP/1.1 500 ", 0) == 0);
  CHECK_FALSE(s.waiting());
}
