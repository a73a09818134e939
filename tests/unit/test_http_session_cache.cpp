// HttpSession with the master's output cache (offer_cache): the cache_put and cache_pass
// notes it queues beside its output, as a function of bytes in and the handler's answers.
#include "worker-sdk/cpp/src/http_session.h"

#include <doctest/doctest.h>

#include <stdexcept>
#include <string>
#include <variant>
#include <vector>

#include "tests/unit/support.h"

using handoff::test::take_all_output;

using namespace handoff;

namespace {

const ipc::CacheOffer kOffer{.max_entry = 1024, .table = {}};

// /cached answers cacheably, /big cacheably but over kOffer's max_entry, anything else not.
Response answer(const Request& r) {
  Response res;
  res.body = "you asked for " + r.target;
  if (r.target == "/cached" || r.target.starts_with("/cached?")) res.headers = {{"Cache-Control", "public, max-age=60"}};
  if (r.target == "/big") {
    res.headers = {{"Cache-Control", "public, max-age=60"}};
    res.body.assign(kOffer.max_entry + 1, 'x');
  }
  return res;
}

std::string get(std::string_view target, std::string_view host = "Example.com") {
  return "GET " + std::string(target) + " HTTP/1.1\r\nHost: " + std::string(host) + "\r\n\r\n";
}

// The notes as text, one each: "put <host><target> <body>" or "pass <host><target>".
std::vector<std::string> notes(HttpSession& s) {
  std::vector<std::string> all;
  for (auto& note : s.take_cache_notes()) {
    if (const auto* put = std::get_if<ipc::CachePut>(&note))
      all.push_back("put " + put->host + put->target + " " + put->body);
    else if (const auto* pass = std::get_if<ipc::CachePass>(&note))
      all.push_back("pass " + pass->host + pass->target);
  }
  return all;
}

using Notes = std::vector<std::string>;

// An AsyncHandler that keeps every Responder, to answer when the test says.
struct Deferred {
  std::vector<Request> requests;
  std::vector<Responder> responders;
  AsyncHandler handler() {
    return [this](const Request& r, Responder responder) {
      requests.push_back(r);
      responders.push_back(responder);
    };
  }
  void answer(std::size_t i) { responders.at(i).send(::answer(requests.at(i))); }
};

}  // namespace

TEST_CASE("http session cache: without an offer nothing is judged, and the output is the same") {
  HttpSession plain(answer);
  plain.feed(get("/cached"));
  HttpSession offered(answer);
  offered.offer_cache(kOffer, false);
  offered.feed(get("/cached"));
  CHECK_FALSE(plain.has_cache_notes());
  CHECK(plain.take_cache_notes().empty());
  CHECK(offered.has_cache_notes());
  CHECK(take_all_output(plain) == take_all_output(offered));
}

TEST_CASE("http session cache: a response worth keeping becomes a put with its key and body, others nothing") {
  HttpSession s(answer);
  s.offer_cache(kOffer, false);
  s.feed(get("/cached?a=1") + get("/plain") + get("/big") + get("/cached", "OTHER.example"));
  const std::string out = take_all_output(s);
  CHECK(handoff::test::count(out, "HTTP/1.1 200 OK") == 4);
  CHECK(out.find("you asked for /cached?a=1") != std::string::npos);  // the client's body is whole
  CHECK(notes(s) == Notes{"put example.com/cached?a=1 you asked for /cached?a=1",
                          "put other.example/cached you asked for /cached"});
  CHECK_FALSE(s.has_cache_notes());
}

TEST_CASE("http session cache: a put carries what the request and the response said") {
  HttpSession s([](const Request&) {
    Response res;
    res.headers = {{"Cache-Control", "public, max-age=60"}, {"Vary", "Accept-Encoding"}, {"Connection", "close"}};
    res.body = "gz";
    res.cache_seconds = 7;
    return res;
  });
  s.offer_cache(kOffer, false);
  s.feed("GET /x HTTP/1.1\r\nHost: h\r\nAccept-Encoding: gzip, br\r\n\r\n");
  CHECK(s.closing());  // the handler's `Connection: close` is still honoured
  auto taken = s.take_cache_notes();
  REQUIRE(taken.size() == 1);
  const auto& put = std::get<ipc::CachePut>(taken[0]);
  CHECK(put.accept_encoding == "gzip, br");
  CHECK(put.ttl == 7);
  CHECK(put.status == 200);
  CHECK(put.headers ==
        std::vector<std::pair<std::string, std::string>>{{"Cache-Control", "public, max-age=60"},
                                                         {"Vary", "Accept-Encoding"}});
}

TEST_CASE("http session cache: a HEAD, a POST or a request with Authorization is never put") {
  HttpSession s(answer);
  s.offer_cache(kOffer, false);
  s.feed("HEAD /cached HTTP/1.1\r\nHost: x\r\n\r\n"
         "POST /cached HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n"
         "GET /cached HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer t\r\n\r\n");
  CHECK(s.requests() == 3);
  CHECK_FALSE(s.has_cache_notes());
}

TEST_CASE("http session cache: a fill connection's first request gets exactly one note, put or pass") {
  SUBCASE("cacheable: its put, and no pass") {
    HttpSession s(answer);
    s.offer_cache(kOffer, true);
    s.feed(get("/cached") + get("/plain"));
    CHECK(notes(s) == Notes{"put example.com/cached you asked for /cached"});
    s.close();
    CHECK_FALSE(s.has_cache_notes());
  }
  SUBCASE("not cacheable: a pass; later requests that are not cacheable get nothing") {
    HttpSession s(answer);
    s.offer_cache(kOffer, true);
    s.feed(get("/plain") + get("/plain2") + get("/cached"));
    CHECK(notes(s) == Notes{"pass example.com/plain", "put example.com/cached you asked for /cached"});
  }
  SUBCASE("too big for the cache: a pass") {
    HttpSession s(answer);
    s.offer_cache(kOffer, true);
    s.feed(get("/big"));
    CHECK(notes(s) == Notes{"pass example.com/big"});
  }
  SUBCASE("a HEAD: a pass") {
    HttpSession s(answer);
    s.offer_cache(kOffer, true);
    s.feed("HEAD /cached HTTP/1.1\r\nHost: x\r\n\r\n");
    CHECK(notes(s) == Notes{"pass x/cached"});
  }
  SUBCASE("a handler that throws: its 500 is a pass") {
    HttpSession s([](const Request&) -> Response { throw std::runtime_error("no"); });
    s.offer_cache(kOffer, true);
    s.feed(get("/cached"));
    CHECK(take_all_output(s).starts_with("HTTP/1.1 500"));
    CHECK(notes(s) == Notes{"pass example.com/cached"});
  }
}

TEST_CASE("http session cache: a fill request the session refuses or gives up on still gets its pass") {
  SUBCASE("a body over the limit: 413") {
    HttpSession s(answer, HttpLimits{.max_body_size = 4});
    s.offer_cache(kOffer, true);
    s.feed("GET /cached HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n");
    CHECK(take_all_output(s).starts_with("HTTP/1.1 413"));
    CHECK(notes(s) == Notes{"pass x/cached"});
  }
  SUBCASE("two Host fields: 400") {
    HttpSession s(answer);
    s.offer_cache(kOffer, true);
    s.feed("GET /cached HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n");
    CHECK(take_all_output(s).starts_with("HTTP/1.1 400"));
    CHECK(notes(s) == Notes{"pass a/cached"});
  }
  SUBCASE("its body never completes: 408 at the timeout") {
    HttpSession s(answer);
    s.offer_cache(kOffer, true);
    s.feed("GET /cached HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc");
    CHECK_FALSE(s.has_cache_notes());  // it may still come
    s.timeout();
    CHECK(take_all_output(s).starts_with("HTTP/1.1 408"));
    CHECK(notes(s) == Notes{"pass x/cached"});
  }
  SUBCASE("the peer stops sending mid-body") {
    HttpSession s(answer);
    s.offer_cache(kOffer, true);
    s.feed("GET /cached HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc");
    s.finish();
    CHECK(s.closing());
    CHECK(notes(s) == Notes{"pass x/cached"});
  }
  SUBCASE("the connection is closed under it") {
    HttpSession s(answer);
    s.offer_cache(kOffer, true);
    s.feed("GET /cached HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc");
    s.close();
    s.close();  // once only
    CHECK(notes(s) == Notes{"pass x/cached"});
  }
  SUBCASE("its head never completed: no key, nothing to say") {
    HttpSession s(answer);
    s.offer_cache(kOffer, true);
    s.feed("GET /cached HTTP/1.1\r\nHost: x\r\n");
    s.close();
    CHECK_FALSE(s.has_cache_notes());
  }
}

TEST_CASE("http session cache: an awaited response is judged when it comes") {
  SUBCASE("cacheable, on a fill connection: its put") {
    Deferred d;
    HttpSession s(d.handler());
    s.offer_cache(kOffer, true);
    s.feed(get("/cached"));
    CHECK(s.waiting());
    CHECK_FALSE(s.has_cache_notes());
    d.answer(0);
    CHECK(notes(s) == Notes{"put example.com/cached you asked for /cached"});
  }
  SUBCASE("never answered: the pass when the connection closes, and a late answer adds nothing") {
    Deferred d;
    HttpSession s(d.handler());
    s.offer_cache(kOffer, true);
    s.feed(get("/cached"));
    s.close();
    CHECK(notes(s) == Notes{"pass example.com/cached"});
    d.answer(0);
    CHECK_FALSE(s.has_cache_notes());
  }
  SUBCASE("pipelined behind it, judged in order") {
    Deferred d;
    HttpSession s(d.handler());
    s.offer_cache(kOffer, false);
    s.feed(get("/cached?1") + get("/cached?2"));
    d.answer(0);
    d.answer(1);
    CHECK(notes(s) == Notes{"put example.com/cached?1 you asked for /cached?1",
                            "put example.com/cached?2 you asked for /cached?2"});
  }
}

TEST_CASE("http session cache: draining, the last response is judged like any") {
  HttpSession s(answer);
  s.offer_cache(kOffer, true);
  s.drain();
  s.feed(get("/cached"));
  const std::string out = take_all_output(s);
  CHECK(out.find("Connection: close\r\n") != std::string::npos);
  CHECK(notes(s) == Notes{"put example.com/cached you asked for /cached"});
}

namespace {

// A shared table (protocols/cache_table.h) on a plain buffer, holding what the master
// stored for example.com/cached.
struct Table {
  static constexpr std::uint64_t kArena = 64 * 1024;
  std::vector<std::uint64_t> memory = std::vector<std::uint64_t>(cache_table::segment_bytes(kArena) / 8 + 1);
  cache_table::Writer writer{memory.data(), memory.size() * 8, kArena};
  std::shared_ptr<cache_table::Reader> reader = std::make_shared<cache_table::Reader>(memory.data(), memory.size() * 8);
  Table() {
    const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::steady_clock::now().time_since_epoch())
                         .count();
    std::string key;
    cache_table::primary_key("example.com", "/cached", key);
    writer.put(key, "HTTP/1.1 200 OK\r\nCache-Control: public, max-age=60\r\n", "from the table", now - 2500,
               now + 60000);
  }
};

}  // namespace

TEST_CASE("http session cache: a request the shared table has a fresh entry for is answered from it") {
  Table table;
  int called = 0;
  HttpSession s([&](const Request& r) {
    ++called;
    return answer(r);
  });
  s.offer_cache(kOffer, false, table.reader);
  s.feed(get("/cached") + get("/other"));
  const std::string out = take_all_output(s);
  CHECK(called == 1);  // /other only
  CHECK(s.table_hits() == 1);
  // The stored head, then Age (whole seconds since the master stored it: 2.5 s before the
  // table was made) and Date.
  REQUIRE(out.starts_with("HTTP/1.1 200 OK\r\nCache-Control: public, max-age=60\r\nAge: "));
  const int age = std::stoi(out.substr(out.find("Age: ") + 5));
  CHECK(age >= 2);
  CHECK(age < 60);
  CHECK(out.find("\r\nDate: ") != std::string::npos);
  CHECK(out.find("Content-Length: 14\r\n\r\nfrom the table") != std::string::npos);
  CHECK(out.find("you asked for /other") != std::string::npos);
  CHECK(notes(s).empty());  // a hit is not put again; /other is not worth keeping
}

TEST_CASE("http session cache: the table answers no fill request, credentials, bodies; HEAD gets the head") {
  Table table;
  int called = 0;
  auto counting = [&](const Request& r) {
    ++called;
    return answer(r);
  };
  {  // The first request of a fill is the master's to hear of: the app answers it.
    HttpSession s(counting);
    s.offer_cache(kOffer, true, table.reader);
    s.feed(get("/cached") + get("/cached"));
    take_all_output(s);
    CHECK(called == 1);
    CHECK(s.table_hits() == 1);
    CHECK(notes(s) == Notes{"put example.com/cached you asked for /cached"});
  }
  called = 0;
  HttpSession s(counting);
  s.offer_cache(kOffer, false, table.reader);
  s.feed("GET /cached HTTP/1.1\r\nHost: example.com\r\nAuthorization: Basic eDp5\r\n\r\n");
  s.feed("POST /cached HTTP/1.1\r\nHost: example.com\r\nContent-Length: 2\r\n\r\nhi");
  CHECK(called == 2);
  s.feed("HEAD /cached HTTP/1.1\r\nHost: example.com\r\n\r\n");
  CHECK(called == 2);
  const std::string out = take_all_output(s);
  const auto head = out.rfind("HTTP/1.1 200 OK");
  CHECK(out.substr(head).find("Content-Length: 14\r\n") != std::string::npos);
  CHECK(out.ends_with("\r\n\r\n"));  // no body after the HEAD's head
}
