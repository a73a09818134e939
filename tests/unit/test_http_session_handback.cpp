// HttpSession's per-request affinity: which request goes back, and exactly which bytes go
// with it (from its first byte to the end of everything read), whatever the reads.
#include "worker-sdk/cpp/src/http_session.h"
#include "worker-sdk/cpp/src/route_check.h"

#include "protocols/route_key.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "tests/unit/support.h"

using handoff::test::take_all_output;

using namespace handoff;

namespace {

// Answers "ok <target>"; requests under /2/ belong to another slot.
struct Slot1 {
  std::vector<std::string> served;
  std::vector<std::string> checked;
  Handler handler() {
    return [this](const Request& r) {
      served.push_back(r.target);
      Response res;
      res.body = "ok " + r.target;
      return res;
    };
  }
  std::function<bool(const Request&)> belongs() {
    return [this](const Request& r) {
      checked.push_back(r.method + " " + r.target);
      return !r.target.starts_with("/2/");
    };
  }
};


const std::string kFirst = "GET /1/a HTTP/1.1\r\nHost: x\r\n\r\n";
const std::string kOther = "POST /2/b HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello";
const std::string kThird = "GET /1/c HTTP/1.1\r\nHost: x\r\n\r\n";

}  // namespace

TEST_CASE("handback: the first request is never checked, the next one is, with its head") {
  Slot1 slot;
  HttpSession s(slot.handler());
  s.check_requests(slot.belongs());
  s.feed("GET /2/first HTTP/1.1\r\nHost: x\r\n\r\n");  // the master chose this worker for it
  CHECK(slot.served == std::vector<std::string>{"/2/first"});
  CHECK(slot.checked.empty());
  s.feed(kThird);
  CHECK(slot.checked == std::vector<std::string>{"GET /1/c"});
  CHECK(slot.served.size() == 2);
  CHECK_FALSE(s.handing_back());
}

TEST_CASE("handback: pipelined requests: those before are answered, the rest goes back byte for byte") {
  Slot1 slot;
  HttpSession s(slot.handler());
  s.check_requests(slot.belongs());
  s.feed(kFirst + kOther + kThird);
  CHECK(slot.served == std::vector<std::string>{"/1/a"});
  CHECK(s.handing_back());
  CHECK(take_all_output(s).ends_with("ok /1/a"));
  CHECK_FALSE(s.closing());
  // A read that was under way joins them; nothing more is parsed or answered.
  s.feed("GET /1/d HTTP/1.1\r\nHost: x\r\n\r\n");
  CHECK(slot.served.size() == 1);
  CHECK_FALSE(s.has_output());
  CHECK(s.take_handback_bytes() == kOther + kThird + "GET /1/d HTTP/1.1\r\nHost: x\r\n\r\n");
}

TEST_CASE("handback: after a complete response, the next request alone goes back") {
  Slot1 slot;
  HttpSession s(slot.handler());
  s.check_requests(slot.belongs());
  s.feed(kFirst);
  CHECK(take_all_output(s).ends_with("ok /1/a"));
  s.feed(kOther);
  CHECK(s.handing_back());
  CHECK_FALSE(s.has_output());
  CHECK(s.take_handback_bytes() == kOther);
}

TEST_CASE("handback: bytes split at every position, in two and in three reads") {
  const std::string stream = kFirst + kOther + kThird;
  const std::string expected = kOther + kThird;
  for (std::size_t i = 0; i <= stream.size(); ++i) {
    Slot1 slot;
    HttpSession s(slot.handler());
    s.check_requests(slot.belongs());
    s.feed(std::string_view(stream).substr(0, i));
    s.feed(std::string_view(stream).substr(i));
    INFO("split at ", i);
    REQUIRE(s.handing_back());
    CHECK(slot.served == std::vector<std::string>{"/1/a"});
    CHECK(s.take_handback_bytes() == expected);
  }
  for (std::size_t i = kFirst.size() - 3; i <= kFirst.size() + kOther.size(); ++i)
    for (std::size_t j = i; j <= stream.size(); ++j) {
      Slot1 slot;
      HttpSession s(slot.handler());
      s.check_requests(slot.belongs());
      s.feed(std::string_view(stream).substr(0, i));
      s.feed(std::string_view(stream).substr(i, j - i));
      s.feed(std::string_view(stream).substr(j));
      INFO("split at ", i, " and ", j);
      REQUIRE(s.handing_back());
      CHECK(s.take_handback_bytes() == expected);
    }
}

TEST_CASE("handback: a head fed one byte at a time goes back whole") {
  const std::string stream = kFirst + kOther;
  Slot1 slot;
  HttpSession s(slot.handler());
  s.check_requests(slot.belongs());
  for (char c : stream) s.feed(std::string_view(&c, 1));
  REQUIRE(s.handing_back());
  CHECK(s.take_handback_bytes() == kOther);
}

TEST_CASE("handback: no 100 Continue and no 413 for a request that goes back") {
  Slot1 slot;
  HttpLimits limits;
  limits.max_body_size = 10;
  HttpSession s(slot.handler(), limits);
  s.check_requests(slot.belongs());
  s.feed(kFirst);
  (void)take_all_output(s);
  const std::string big = "POST /2/up HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 1000\r\n\r\n";
  s.feed(big);
  CHECK(s.handing_back());
  CHECK_FALSE(s.has_output());
  CHECK_FALSE(s.closing());
  CHECK(s.take_handback_bytes() == big);
}

TEST_CASE("handback: behind an awaited response, the check comes once it is answered") {
  std::vector<Responder> responders;
  HttpSession s(AsyncHandler([&](const Request&, Responder r) { responders.push_back(r); }));
  Slot1 slot;
  s.check_requests(slot.belongs());
  s.feed(kFirst + kOther);
  REQUIRE(responders.size() == 1);
  CHECK_FALSE(s.handing_back());  // held, unparsed, while the first is awaited
  Response r;
  r.body = "late";
  responders[0].send(r);
  CHECK(s.handing_back());
  CHECK(take_all_output(s).ends_with("late"));
  CHECK(s.take_handback_bytes() == kOther);
}

TEST_CASE("handback: without a check nothing goes back") {
  Slot1 slot;
  HttpSession s(slot.handler());
  s.feed(kFirst + kOther + kThird);
  CHECK_FALSE(s.handing_back());
  CHECK(slot.served.size() == 3);
}

TEST_CASE("route check: decides as the master routes") {
  const std::vector<Header> none;
  ipc::RouteCheck seg{.rule = KeySource::url_segment, .index = 1, .direct = true, .name = "", .missing_stays = true,
                      .prefixes = {}, .foreign = {}};
  CHECK(belongs_here(seg, 2, 4, "/2/pid", none));
  CHECK_FALSE(belongs_here(seg, 2, 4, "/3/pid", none));
  CHECK_FALSE(belongs_here(seg, 2, 4, "/3?x", none));
  CHECK(belongs_here(seg, 2, 4, "/9/pid", none));  // no slot 9: no key, stays
  CHECK(belongs_here(seg, 2, 4, "/", none));
  seg.missing_stays = false;
  CHECK_FALSE(belongs_here(seg, 2, 4, "/x/pid", none));
  CHECK(belongs_here(seg, 2, 4, "/2/pid", none));

  const auto room = slot_for_key("room-42", 4) + 1;
  ipc::RouteCheck header{.rule = KeySource::header, .index = 1, .direct = false, .name = "X-Room", .missing_stays = false,
                         .prefixes = {}, .foreign = {}};
  ipc::RouteCheck query = header;
  query.rule = KeySource::query;
  query.name = "room";
  ipc::RouteCheck cookie = query;
  cookie.rule = KeySource::cookie;
  for (int slot = 1; slot <= 4; ++slot) {
    const bool mine = static_cast<std::size_t>(slot) == room;
    CHECK(belongs_here(header, slot, 4, "/", {{"x-room", "room-42"}}) == mine);
    CHECK(belongs_here(query, slot, 4, "/a?room=room-42", none) == mine);
    CHECK(belongs_here(cookie, slot, 4, "/", {{"Cookie", "a=1"}, {"cookie", "room=room-42"}}) == mine);
  }
  CHECK_FALSE(belongs_here(header, 1, 4, "/", {{"X-Room", ""}}));  // empty is missing
  ipc::RouteCheck host{.rule = KeySource::host, .index = 1, .direct = false, .name = "", .missing_stays = true,
                       .prefixes = {}, .foreign = {}};
  const auto example = static_cast<int>(slot_for_key("example.com", 3)) + 1;
  CHECK(belongs_here(host, example, 3, "/", {{"Host", "EXAMPLE.com:8080"}}));
  CHECK_FALSE(belongs_here(host, example % 3 + 1, 3, "/", {{"Host", "example.com"}}));

  ipc::RouteCheck shared{.rule = KeySource::none, .index = 1, .direct = false, .name = "", .missing_stays = true,
                         .prefixes = {"/a/"}, .foreign = {"/b/", "/a/b/"}};
  CHECK(belongs_here(shared, 1, 2, "/a/x", none));
  CHECK_FALSE(belongs_here(shared, 1, 2, "/b/x", none));
  CHECK_FALSE(belongs_here(shared, 1, 2, "/a/b/x", none));
  CHECK_FALSE(belongs_here(shared, 1, 2, "/c", none));  // nobody's: the master's 404

  CHECK(belongs_here(ipc::RouteCheck{}, 1, 4, "/3/x", none));
  ipc::RouteCheck plugin{};
  plugin.rule = key_source_named("plugin");  // a rule a worker cannot check: none
  CHECK(belongs_here(plugin, 1, 4, "/3/x", none));
}
