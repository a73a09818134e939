// The dispatcher the way test_slot_machine.cpp tests the lifecycle: events in, effects
// recorded, connections are ints.
#include <doctest/doctest.h>

#include <algorithm>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "protocols/route_key.h"
#include "supervisor/core/dispatcher.h"
#include "supervisor/core/routing/rehash.h"

using namespace handoff;
using namespace std::chrono_literals;

namespace {

// Records what the dispatcher asks for.
struct Recorder final : DispatchEffects<int> {
  std::vector<std::pair<std::size_t, int>> sent;  // (lane, connection)
  std::vector<std::pair<int, int>> rejected;      // (connection, status)
  std::vector<std::pair<std::size_t, int>> handed;
  std::vector<std::pair<std::size_t, std::string>> broken;
  std::vector<std::size_t> timeouts;
  std::vector<std::pair<std::size_t, std::size_t>> flushed;
  std::map<std::size_t, std::size_t> lengths;  // the last queue_length of each lane
  std::map<int, TimePoint::duration> waits;     // each acknowledged connection's time in the queue
  bool channel_open = true;

  bool send(std::size_t lane, int& c) override {
    if (!channel_open) return false;
    sent.emplace_back(lane, c);
    return true;
  }
  void reject(int c, int status) override { rejected.emplace_back(c, status); }
  void handed_off(std::size_t lane, const int& c, TimePoint::duration queue_wait) override {
    handed.emplace_back(lane, c);
    waits[c] = queue_wait;
  }
  void misbehaved(std::size_t lane, KillReason reason, std::string detail) override {
    broken.emplace_back(lane, describe(Kill{reason, std::move(detail)}));
  }
  void queue_timeout(std::size_t lane) override { timeouts.push_back(lane); }
  void queue_flushed(std::size_t lane, std::size_t n) override { flushed.emplace_back(lane, n); }
  void queue_length(std::size_t lane, std::size_t n) override { lengths[lane] = n; }

  std::vector<int> sent_to(std::size_t lane) const {
    std::vector<int> out;
    for (const auto& [l, c] : sent)
      if (l == lane) out.push_back(c);
    return out;
  }
};

const TimePoint t0{};

DispatchSettings settings(Unavailable mode = Unavailable::queue, std::size_t max = 5000,
                          Milliseconds timeout = 30s) {
  return {mode, max, timeout, 5s};
}

RuleConfig rule(std::string name) {
  RuleConfig r;
  r.name = std::move(name);
  return r;
}

// A dispatcher with `slots` slots under `r`; the first `ready` of them have a ready worker.
struct Fixture {
  Recorder fx;
  Dispatcher<int> d;
  std::vector<std::size_t> lanes;
  Fixture(const RuleConfig& r, std::size_t slots, std::size_t ready, DispatchSettings s = settings())
      : d(fx, s) {
    std::string error;
    d.set_rule(make_policy(r, LibraryLoader{}, error), find_policy(r.name)->affinity);
    for (std::size_t i = 0; i < slots; ++i) lanes.push_back(d.add_slot());
    for (std::size_t i = 0; i < ready; ++i) up(i);
  }
  void up(std::size_t i, TimePoint now = t0) { d.slot_state(lanes[i], {.ready = true}, now); }
  void down(std::size_t i, TimePoint now = t0) { d.slot_state(lanes[i], {}, now); }
};

// A client of 127.0.0.`last`: ip_hash sends all its connections to one slot.
std::unique_ptr<const RouteFacts> from(unsigned char last) {
  const std::byte address[4]{std::byte{127}, std::byte{0}, std::byte{0}, std::byte{last}};
  return std::make_unique<const RouteFacts>(address, "127.0.0." + std::to_string(last), 40000, nullptr, false);
}

// The slot (0-based) ip_hash picks for 127.0.0.`last` among `slots`.
std::size_t ip_slot(unsigned char last, std::size_t slots) {
  std::string error;
  auto p = make_policy(rule("ip_hash"), LibraryLoader{}, error);
  std::vector<SlotView> views(slots);
  const std::byte address[4]{std::byte{127}, std::byte{0}, std::byte{0}, std::byte{last}};
  return p->pick(RouteInput{address}, views).slot;
}

// A client of 127.0.0.x that ip_hash sends to `slot` of 2.
unsigned char client_of(std::size_t slot) {
  for (unsigned char last = 1; last < 255; ++last)
    if (ip_slot(last, 2) == slot) return last;
  FAIL("no address for slot " << slot);
  return 0;
}

// An L7 request for `path`; only the facts keep the head (the buffer goes at once).
std::unique_ptr<const RouteFacts> request(const std::string& path) {
  const std::string bytes = "GET " + path + " HTTP/1.1\r\nHost: x\r\n\r\n";
  const HeadParse parsed = parse_request_head(bytes, bytes.size());
  REQUIRE(parsed.status == HeadStatus::complete);
  return std::make_unique<const RouteFacts>(std::span<const std::byte>{}, "127.0.0.1", 40000, &parsed.head, true);
}

RuleConfig url_segment(bool direct) {
  auto r = rule("url_segment");
  r.direct = direct;
  return r;
}

}  // namespace

TEST_CASE("dispatcher: round_robin sends to ready slots in turn, one handle in flight per slot until its ACK") {
  Fixture f(rule("round_robin"), 2, 2);
  for (int c = 1; c <= 4; ++c) f.d.dispatch(int{c}, from(1), t0);
  CHECK(f.fx.sent_to(0) == std::vector<int>{1});  // 3 waits for 1's ACK
  CHECK(f.fx.sent_to(1) == std::vector<int>{2});
  CHECK(f.d.waiting(f.lanes[0]) == 1);
  f.d.ack(f.lanes[0], t0);
  CHECK(f.fx.handed == std::vector<std::pair<std::size_t, int>>{{0, 1}});
  CHECK(f.fx.sent_to(0) == std::vector<int>{1, 3});
  f.d.ack(f.lanes[1], t0);
  CHECK(f.fx.sent_to(1) == std::vector<int>{2, 4});
  CHECK(f.fx.rejected.empty());
}

TEST_CASE("dispatcher: a worker with a window gets that many before it answers; each ACK lets one more go") {
  Fixture f(rule("round_robin"), 1, 0);
  f.d.slot_state(f.lanes[0], {.ready = true, .window = 3}, t0);
  for (int c = 1; c <= 5; ++c) f.d.dispatch(int{c}, from(1), t0 + std::chrono::seconds(c));
  CHECK(f.fx.sent_to(0) == std::vector<int>{1, 2, 3});
  CHECK(f.d.in_flight_count(f.lanes[0]) == 3);
  CHECK(f.d.waiting(f.lanes[0]) == 2);
  // The ACK deadline is the oldest handle's: 1 went at 1 s.
  REQUIRE(f.d.next_deadline());
  CHECK(*f.d.next_deadline() == t0 + 6s);
  f.d.ack(f.lanes[0], t0 + 7s);  // answers come in the order handles went: 1's
  CHECK(f.fx.handed == std::vector<std::pair<std::size_t, int>>{{0, 1}});
  CHECK(f.fx.sent_to(0) == std::vector<int>{1, 2, 3, 4});
  CHECK(*f.d.next_deadline() == t0 + 7s);  // now 2's, which went at 2 s
  // The worker dies with 2, 3, 4 unanswered: they come back first, in order, for the next one.
  f.down(0, t0 + 8s);
  f.d.worker_gone(f.lanes[0], t0 + 8s);
  CHECK(f.d.waiting(f.lanes[0]) == 4);
  f.d.slot_state(f.lanes[0], {.ready = true}, t0 + 9s);  // a replacement without a window
  CHECK(f.fx.sent_to(0) == std::vector<int>{1, 2, 3, 4, 2});
  CHECK(f.fx.rejected.empty());
}

TEST_CASE("dispatcher: a send that fails inside a window keeps that connection first in line") {
  Fixture f(rule("round_robin"), 1, 0);
  f.d.slot_state(f.lanes[0], {.ready = true, .window = 4}, t0);
  f.d.dispatch(1, from(1), t0);
  f.fx.channel_open = false;
  f.d.dispatch(2, from(1), t0);
  f.d.dispatch(3, from(1), t0);
  CHECK(f.d.in_flight_count(f.lanes[0]) == 1);
  f.fx.channel_open = true;
  f.d.ack(f.lanes[0], t0);
  CHECK(f.fx.sent_to(0) == std::vector<int>{1, 2, 3});
}

TEST_CASE("dispatcher: the time a connection waited in its slot's queue comes with its ACK") {
  Fixture f(rule("round_robin"), 1, 0);
  f.d.dispatch(1, from(1), t0);        // the slot has no worker yet
  f.d.dispatch(2, from(1), t0 + 1s);
  f.up(0, t0 + 3s);                    // 1 goes now; 2 waits for 1's ACK
  f.d.ack(f.lanes[0], t0 + 4s);        // 2 goes at 4 s
  f.d.ack(f.lanes[0], t0 + 5s);
  CHECK(f.fx.waits.at(1) == 3s);
  CHECK(f.fx.waits.at(2) == 3s);
  f.d.dispatch(3, from(1), t0 + 6s);   // the worker is free: no wait
  f.d.ack(f.lanes[0], t0 + 7s);
  CHECK(f.fx.waits.at(3) == 0s);
}

TEST_CASE("dispatcher: on_unavailable queue keeps affinity: a connection waits for its own slot") {
  Fixture f(rule("ip_hash"), 2, 2);
  const auto client = client_of(1);
  f.down(1);
  f.d.dispatch(7, from(client), t0);
  CHECK(f.fx.sent.empty());
  CHECK(f.d.waiting(f.lanes[1]) == 1);
  f.up(1);
  CHECK(f.fx.sent_to(1) == std::vector<int>{7});
}

TEST_CASE("dispatcher: queue.max bounds each slot's queue; beyond it 503") {
  Fixture f(rule("ip_hash"), 2, 1, settings(Unavailable::queue, 3));
  const auto client = client_of(1);
  for (int c = 1; c <= 5; ++c) f.d.dispatch(int{c}, from(client), t0);
  CHECK(f.d.waiting(f.lanes[1]) == 3);
  CHECK(f.fx.rejected == std::vector<std::pair<int, int>>{{4, 503}, {5, 503}});
}

TEST_CASE("dispatcher: queue.timeout answers 503 to what waited too long, oldest first") {
  Fixture f(rule("ip_hash"), 2, 1, settings(Unavailable::queue, 10, 500ms));
  const auto client = client_of(1);
  f.d.dispatch(1, from(client), t0);
  CHECK(f.d.take_deadline() == t0 + 500ms);  // for the caller's timer
  f.d.dispatch(2, from(client), t0 + 300ms);
  CHECK(!f.d.take_deadline());  // not earlier: the timer stays
  CHECK(f.fx.lengths[1] == 2);
  REQUIRE(f.d.next_deadline());
  CHECK(*f.d.next_deadline() == t0 + 500ms);
  f.d.tick(t0 + 499ms);
  CHECK(f.fx.rejected.empty());
  f.d.tick(t0 + 500ms);
  CHECK(f.d.take_deadline() == t0 + 800ms);
  CHECK(f.fx.lengths[1] == 1);
  CHECK(f.fx.rejected == std::vector<std::pair<int, int>>{{1, 503}});
  CHECK(f.fx.timeouts == std::vector<std::size_t>{1});
  CHECK(*f.d.next_deadline() == t0 + 800ms);
  f.d.tick(t0 + 800ms);
  CHECK(f.fx.rejected.size() == 2);
  CHECK(!f.d.next_deadline());
}

TEST_CASE("dispatcher: a connection that waited elsewhere first (a slot's kernel queue) counts that wait") {
  Fixture f(rule("ip_hash"), 2, 1, settings(Unavailable::queue, 10, 500ms));
  const auto client = client_of(1);
  f.d.dispatch(1, from(client), t0 + 1s, t0 + 400ms);  // waited 600 ms before the master took it
  CHECK(f.d.take_deadline() == t0 + 900ms);
  f.d.dispatch(2, from(client), t0 + 1s, t0 + 900ms);
  f.d.dispatch(3, from(client), t0 + 1s, t0 + 2s);  // a clock read later than now: counts from now
  f.d.tick(t0 + 1s);
  CHECK(f.fx.rejected == std::vector<std::pair<int, int>>{{1, 503}});
  CHECK(*f.d.next_deadline() == t0 + 1400ms);
  f.up(1, t0 + 1200ms);
  REQUIRE(f.fx.sent_to(1) == std::vector<int>{2});
  f.d.ack(1, t0 + 1200ms);
  REQUIRE(f.fx.sent_to(1) == std::vector<int>{2, 3});
  f.d.ack(1, t0 + 1200ms);
  CHECK(f.fx.waits[2] == 300ms);  // the queue wait reported includes the wait before
  CHECK(f.fx.waits[3] == 200ms);
}

TEST_CASE("rehash_target: the next ready slot after the home one, wrapping round; none when no other is ready") {
  const std::vector<bool> ready{true, false, false, true};
  const auto target = [&](std::size_t home) {
    return rehash_target(home, ready.size(), [&](std::size_t i) { return static_cast<bool>(ready[i]); });
  };
  CHECK(target(1) == std::optional<std::size_t>(3));
  CHECK(target(2) == std::optional<std::size_t>(3));
  CHECK(target(3) == std::optional<std::size_t>(0));  // wraps round
  CHECK(target(0) == std::optional<std::size_t>(3));  // never itself
  const std::vector<bool> alone{false, true};
  CHECK_FALSE(rehash_target(1, alone.size(), [&](std::size_t i) { return static_cast<bool>(alone[i]); }).has_value());
}

TEST_CASE("dispatcher: on_unavailable rehash sends a connection for a down slot to the next ready one") {
  Fixture f(rule("ip_hash"), 3, 3, settings(Unavailable::rehash));
  unsigned char client = 1;
  while (ip_slot(client, 3) != 1) ++client;
  f.down(1);
  f.d.dispatch(5, from(client), t0);
  CHECK(f.fx.sent_to(2) == std::vector<int>{5});  // the next one after it, always the same
}

TEST_CASE("dispatcher: on_unavailable reject answers 503 when the slot is down, and when none is ready") {
  Fixture f(rule("ip_hash"), 2, 2, settings(Unavailable::reject));
  f.down(1);
  f.d.dispatch(1, from(client_of(1)), t0);
  CHECK(f.fx.rejected == std::vector<std::pair<int, int>>{{1, 503}});
  Fixture rr(rule("round_robin"), 2, 0, settings(Unavailable::reject));
  rr.d.dispatch(2, from(1), t0);
  CHECK(rr.fx.rejected == std::vector<std::pair<int, int>>{{2, 503}});
}

TEST_CASE("dispatcher: without a ready slot, a rule without preference waits in the first slot that may start") {
  Fixture f(rule("round_robin"), 2, 0);
  f.d.slot_state(f.lanes[0], {.turns_away = true}, t0);
  f.d.dispatch(1, from(1), t0);
  CHECK(f.d.waiting(f.lanes[1]) == 1);
  f.up(1);
  CHECK(f.fx.sent_to(1) == std::vector<int>{1});
}

TEST_CASE("dispatcher: an L7 connection moved later keeps its key (rehash when another slot comes up)") {
  Fixture f(url_segment(true), 2, 0, settings(Unavailable::rehash));
  f.d.dispatch(1, request("/2/room"), t0);
  CHECK(f.d.waiting(f.lanes[1]) == 1);  // its own slot's queue: none is ready
  f.up(0);
  CHECK(f.fx.rejected.empty());  // not a 404: the head was kept
  CHECK(f.fx.sent_to(0) == std::vector<int>{1});
}

TEST_CASE("dispatcher: missing_key 404s a request without a key, or lets the fallback rule pick") {
  Fixture f(url_segment(true), 2, 2);
  f.d.dispatch(1, request("/x/"), t0);
  CHECK(f.fx.rejected == std::vector<std::pair<int, int>>{{1, 404}});
  auto r = url_segment(true);
  r.missing_key = "round_robin";
  Fixture g(r, 2, 2);
  g.d.dispatch(2, request("/x/"), t0);
  CHECK(g.fx.rejected.empty());
  CHECK(g.fx.sent.size() == 1);
}

TEST_CASE("dispatcher: a slot lost with a handle in flight: waiting ones move, the handle waits for the worker's fate") {
  Fixture f(rule("round_robin"), 2, 2);
  for (int c = 1; c <= 4; ++c) f.d.dispatch(int{c}, from(1), t0);  // 1, 3 on slot 1; 2, 4 on slot 2
  f.down(0);
  CHECK(f.d.in_flight(f.lanes[0]));  // 1 is the worker's, or comes back when it exits
  CHECK(f.d.waiting(f.lanes[0]) == 0);
  CHECK(f.d.waiting(f.lanes[1]) == 2);  // 3 moved behind 4
  f.d.worker_gone(f.lanes[0], t0);   // it exited without an ACK
  CHECK(f.d.waiting(f.lanes[0]) == 1);
  f.up(0);                           // its replacement gets it first
  CHECK(f.fx.sent_to(0) == std::vector<int>{1, 1});
  CHECK(f.fx.rejected.empty());
}

TEST_CASE("dispatcher: with affinity and on_unavailable queue, nothing moves when a slot is lost") {
  Fixture f(rule("ip_hash"), 2, 2);
  const auto client = client_of(0);
  for (int c = 1; c <= 3; ++c) f.d.dispatch(int{c}, from(client), t0);
  f.down(0);
  CHECK(f.d.waiting(f.lanes[0]) == 2);
  CHECK(f.fx.sent_to(1).empty());
  CHECK(!f.d.may_move());
}

TEST_CASE("dispatcher: a stopping slot keeps its queue; stop_slot answers it 503") {
  Fixture f(rule("round_robin"), 2, 1);
  f.d.dispatch(1, from(1), t0);
  f.d.dispatch(2, from(1), t0);
  f.d.slot_state(f.lanes[0], {.stopping = true}, t0);
  CHECK(f.d.waiting(f.lanes[0]) == 1);
  f.d.stop_slot(f.lanes[0]);
  CHECK(f.fx.rejected == std::vector<std::pair<int, int>>{{2, 503}});
  f.d.stop();
  f.d.dispatch(3, from(1), t0);
  CHECK(f.fx.rejected.back() == std::pair<int, int>{3, 503});
}

TEST_CASE("dispatcher: ack_timeout reports the worker once; a refused handle reports it, and waits for its replacement") {
  Fixture f(rule("round_robin"), 1, 1);
  f.d.dispatch(1, from(1), t0);
  REQUIRE(f.d.next_deadline());
  CHECK(*f.d.next_deadline() == t0 + 5s);
  f.d.tick(t0 + 5s);
  f.d.tick(t0 + 6s);
  CHECK(f.fx.broken == std::vector<std::pair<std::size_t, std::string>>{{0, "hung: no ACK within ack_timeout"}});
  // The channel resent it on each NACK (ipc::ChannelEnd); the dispatcher hears of the last.
  f.d.refused(f.lanes[0]);
  CHECK(f.fx.sent_to(0).size() == 1);
  REQUIRE(f.fx.broken.size() == 2);
  CHECK(f.fx.broken[1].second == "protocol: refused a connection 4 times in a row (NACK)");
  f.d.slot_state(f.lanes[0], {}, t0 + 7s);  // killed for it: the connection waits at the head
  f.d.worker_gone(f.lanes[0], t0 + 7s);
  CHECK(f.d.waiting(f.lanes[0]) == 1);
  f.d.refused(f.lanes[0]);  // nothing in flight: nobody to blame
  CHECK(f.fx.broken.size() == 2);
}

TEST_CASE("dispatcher: a slot that turns away flushes its queue: elsewhere without affinity, 503 with it") {
  Fixture f(rule("round_robin"), 2, 0);
  f.d.dispatch(1, from(1), t0);  // waits in slot 1, the first that may start
  f.d.slot_state(f.lanes[0], {.turns_away = true}, t0);
  CHECK(f.fx.flushed == std::vector<std::pair<std::size_t, std::size_t>>{{0, 1}});
  CHECK(f.d.waiting(f.lanes[1]) == 1);

  Fixture a(rule("ip_hash"), 2, 0);
  a.d.dispatch(2, from(client_of(0)), t0);
  a.d.slot_state(a.lanes[0], {.turns_away = true}, t0);
  CHECK(a.fx.rejected == std::vector<std::pair<int, int>>{{2, 503}});
  a.d.dispatch(3, from(client_of(0)), t0);  // and so is every new one for it
  CHECK(a.fx.rejected.back() == std::pair<int, int>{3, 503});
}

TEST_CASE("dispatcher: a scale-down routes what waited in the removed slot again, with its key") {
  auto r = rule("url_segment");
  Fixture f(r, 2, 0, settings(Unavailable::rehash));
  std::string key = "a";
  while (slot_for_key(key, 2) != 1) key += "a";
  f.d.dispatch(1, request("/" + key + "/room"), t0);
  CHECK(f.d.waiting(f.lanes[1]) == 1);
  f.d.retire_last(t0);
  CHECK(f.d.slots() == 1);
  CHECK(f.fx.rejected.empty());
  CHECK(f.d.waiting(f.lanes[0]) == 1);
  f.up(0);
  CHECK(f.fx.sent_to(0) == std::vector<int>{1});
}

TEST_CASE("dispatcher: a retired slot's handle in flight is still acknowledged; a new slot joins the turn") {
  Fixture f(rule("round_robin"), 2, 2);
  f.d.dispatch(1, from(1), t0);
  f.d.dispatch(2, from(1), t0);
  f.d.retire_last(t0);
  f.d.ack(f.lanes[1], t0);
  CHECK(f.fx.handed.back() == std::pair<std::size_t, int>{1, 2});
  f.d.forget(f.lanes[1]);
  const auto added = f.d.add_slot();
  f.d.slot_state(added, {.ready = true}, t0);
  f.d.ack(f.lanes[0], t0);
  f.d.dispatch(3, from(1), t0);
  f.d.dispatch(4, from(1), t0);
  CHECK(f.fx.sent_to(added) == std::vector<int>{4});
  CHECK(f.fx.sent_to(0) == std::vector<int>{1, 3});
}

TEST_CASE("dispatcher: a send that fails keeps the connection first in line") {
  Fixture f(rule("round_robin"), 1, 1);
  f.fx.channel_open = false;
  f.d.dispatch(1, from(1), t0);
  CHECK(f.d.waiting(f.lanes[0]) == 1);
  CHECK(!f.d.in_flight(f.lanes[0]));
  f.fx.channel_open = true;
  f.up(0);
  CHECK(f.fx.sent_to(0) == std::vector<int>{1});
}

TEST_CASE("dispatcher: the rule sees each slot's load: waiting and in flight plus what its worker has open") {
  Fixture f(rule("ip_hash"), 2, 1);
  for (int c = 1; c <= 3; ++c) f.d.dispatch(int{c}, from(client_of(0)), t0);
  f.d.worker_load(f.lanes[1], 7);
  const auto& views = f.d.views();
  CHECK(views[0].load == 3);
  CHECK(views[1].load == 7);
}

TEST_CASE("dispatcher: least_connections picks the ready slot with the least load, ties in turn") {
  Fixture f(rule("least_connections"), 3, 3);
  f.d.worker_load(f.lanes[0], 5);
  f.d.worker_load(f.lanes[1], 1);
  f.d.worker_load(f.lanes[2], 1);
  f.d.dispatch(1, from(1), t0);  // slots 2 and 3 tie at 1: slot 2, the first in turn
  f.d.dispatch(2, from(1), t0);  // slot 2 has 2 now (1 in flight): slot 3
  f.d.dispatch(3, from(1), t0);  // 2 and 2: slot 2, next in turn; it waits for 1's ACK
  CHECK(f.fx.sent_to(1) == std::vector<int>{1});
  CHECK(f.fx.sent_to(2) == std::vector<int>{2});
  CHECK(f.d.waiting(f.lanes[1]) == 1);
  f.down(1);  // no affinity: 3 moves, to slot 3 (2) rather than slot 1 (5), behind 2
  CHECK(f.d.waiting(f.lanes[1]) == 0);
  CHECK(f.d.waiting(f.lanes[2]) == 1);
  CHECK(f.fx.sent_to(0).empty());
}

TEST_CASE("dispatcher: only rules that read the load have it counted before each pick; every rule sees `ready` current") {
  // The hand-off path skips counting the load for rules that never read it.
  std::string error;
  for (const auto& [name, reads] : std::vector<std::pair<std::string, bool>>{
           {"round_robin", false}, {"ip_hash", false}, {"least_connections", true}, {"url_segment", false}}) {
    CAPTURE(name);
    CHECK(make_policy(rule(name), LibraryLoader{}, error)->reads_load() == reads);
  }
  RuleConfig keyed = rule("url_segment");
  keyed.missing_key = "least_connections";  // its fallback reads the load
  CHECK(make_policy(keyed, LibraryLoader{}, error)->reads_load());
  // Round robin follows slots going up and down between picks.
  Fixture f(rule("round_robin"), 3, 1);
  f.d.dispatch(1, nullptr, t0);
  f.up(2);
  f.d.dispatch(2, nullptr, t0);
  f.down(0);
  f.d.dispatch(3, nullptr, t0);
  CHECK(f.fx.sent_to(0) == std::vector<int>{1});
  CHECK(f.fx.sent_to(2) == std::vector<int>{2});
  CHECK(f.d.waiting(f.lanes[2]) == 1);  // 3: slot 3 again (slot 1 is down), behind 2 in flight
}
