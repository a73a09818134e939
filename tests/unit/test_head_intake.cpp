// The head intake as a function of events: connections added, bytes peeked or read,
// peers closing, time passing. The edge here records the effects the machine asks for.
#include <doctest/doctest.h>

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "supervisor/core/head_intake.h"

using namespace handoff;
using namespace std::chrono_literals;

namespace {

using Clock = HeadIntake::Clock;

// Every effect as one line: "classified 1 GET /1/x taken=0", "rejected 2 408", ...
struct RecordingEdge : IntakeEdge {
  std::vector<std::string> effects;
  std::vector<ProxyHeader> proxies;
  bool consume_ok = true;
  HeadIntake* intake = nullptr;
  std::vector<IntakeId> add_on_close;  // added again from inside closed(): re-entrancy

  bool proxied(IntakeId id, const ProxyHeader& h, std::size_t in_kernel) override {
    proxies.push_back(h);
    effects.push_back("proxied " + std::to_string(id) + " " + h.address_text + " consume=" + std::to_string(in_kernel));
    return consume_ok;
  }
  void waiting(IntakeId id, std::size_t in_kernel) override {
    effects.push_back("waiting " + std::to_string(id) + " " + std::to_string(in_kernel));
  }
  void classified(IntakeId id, const RequestHead* head, std::string_view taken) override {
    effects.push_back("classified " + std::to_string(id) + (head ? " " + std::string(head->method) + " " + std::string(head->path) : " -") +
                      " taken=" + std::string(taken));
  }
  void rejected(IntakeId id, int status) override {
    effects.push_back("rejected " + std::to_string(id) + " " + std::to_string(status));
  }
  void closed(IntakeId id) override {
    effects.push_back("closed " + std::to_string(id));
    if (intake && !add_on_close.empty()) {
      const IntakeId next = add_on_close.back();
      add_on_close.pop_back();
      intake->added(next, {}, Clock::time_point{});
    }
  }
  std::string last() const { return effects.empty() ? "" : effects.back(); }
};

HeadIntake::Settings heads(std::size_t max_head = 64, std::size_t max_classifying = 8) {
  return {.proxy_protocol = false, .read_head = true, .head_timeout = 2000ms, .max_head = max_head,
          .max_classifying = max_classifying};
}

HeadIntake::Settings proxied_heads() {
  auto s = heads(1024);
  s.proxy_protocol = true;
  return s;
}

const Clock::time_point t0{};
const std::string kHead = "GET /1/x HTTP/1.1\r\nHost: x\r\n\r\n";

std::string v2_tcp4(const std::string& source, int port) {
  std::string s("\r\n\r\n\0\r\nQUIT\n", 12);
  s += static_cast<char>(0x21);  // version 2, PROXY
  s += static_cast<char>(0x11);  // TCP over IPv4
  s += static_cast<char>(0);
  s += static_cast<char>(12);
  std::size_t start = 0;
  for (int i = 0; i < 4; ++i) {
    const std::size_t dot = source.find('.', start);
    s += static_cast<char>(std::stoi(source.substr(start, dot - start)));
    start = dot + 1;
  }
  for (const int b : {127, 0, 0, 1}) s += static_cast<char>(b);
  s += static_cast<char>(port >> 8);
  s += static_cast<char>(port & 0xFF);
  s += static_cast<char>(0);
  s += static_cast<char>(80);
  return s;
}

}  // namespace

TEST_CASE("head intake, peeking: a head that is there at once, and one that comes in pieces") {
  RecordingEdge edge;
  HeadIntake intake(heads(), edge);
  intake.added(1, {}, t0);
  CHECK(edge.effects.empty());  // decided on with the first peek
  intake.peeked(1, kHead, false);
  CHECK(edge.last() == "classified 1 GET /1/x taken=");
  CHECK(intake.size() == 0);

  intake.added(2, {}, t0);
  intake.peeked(2, "GET /2/y HT", false);
  CHECK(edge.last() == "waiting 2 11");  // wake past the 11 bytes seen
  intake.peeked(2, "GET /2/y HTTP/1.1\r\n", false);
  CHECK(edge.last() == "waiting 2 19");
  intake.peeked(2, "GET /2/y HTTP/1.1\r\n\r\nbody", false);
  CHECK(edge.last() == "classified 2 GET /2/y taken=");
}

TEST_CASE("head intake, reading: bytes taken off the socket go with it") {
  RecordingEdge edge;
  HeadIntake intake(heads(), edge);
  intake.added(1, {}, t0);
  intake.arrived(1, {});
  CHECK(edge.last() == "waiting 1 0");
  intake.arrived(1, "GET /1/x HTTP/1.1\r\nHo");
  CHECK(edge.last() == "waiting 1 0");  // nothing left in the kernel: the next read
  intake.arrived(1, "st: x\r\n\r\nbody");
  CHECK(edge.last() == "classified 1 GET /1/x taken=GET /1/x HTTP/1.1\r\nHost: x\r\n\r\nbody");
}

TEST_CASE("head intake: PROXY v1 then the head, peeking: the header is consumed from the kernel") {
  RecordingEdge edge;
  HeadIntake intake(proxied_heads(), edge);
  const std::string proxy = "PROXY TCP4 203.0.113.7 192.0.2.1 56324 443\r\n";
  intake.added(1, {}, t0);
  CHECK(intake.peek_length(1) == 1025 + kMaxProxyHeader);
  intake.peeked(1, "PROXY TCP4 203.0", false);
  CHECK(edge.last() == "waiting 1 16");
  intake.peeked(1, proxy + "GET /1/", false);
  REQUIRE(edge.effects.size() == 3);
  CHECK(edge.effects[1] == "proxied 1 203.0.113.7 consume=" + std::to_string(proxy.size()));
  CHECK(edge.effects[2] == "waiting 1 7");  // the head's bytes, the header gone from the kernel
  CHECK(intake.peek_length(1) == 1025);
  intake.peeked(1, kHead, false);  // the kernel's view now starts after the header
  CHECK(edge.last() == "classified 1 GET /1/x taken=");
  CHECK(edge.proxies.at(0).port == 56324);
}

TEST_CASE("head intake: PROXY v2 then the head in one segment, reading") {
  RecordingEdge edge;
  HeadIntake intake(proxied_heads(), edge);
  intake.added(1, {}, t0);
  intake.arrived(1, v2_tcp4("198.51.100.9", 40001) + kHead);
  REQUIRE(edge.effects.size() == 2);
  CHECK(edge.effects[0] == "proxied 1 198.51.100.9 consume=0");  // read: nothing in the kernel
  CHECK(edge.effects[1] == "classified 1 GET /1/x taken=" + kHead);  // the header is no worker's
}

TEST_CASE("head intake: PROXY protocol without heads is classified once the header is in") {
  RecordingEdge edge;
  auto s = proxied_heads();
  s.read_head = false;
  HeadIntake intake(s, edge);
  intake.added(1, {}, t0);
  intake.peeked(1, "PROXY UNKNOWN\r\nGET", false);
  CHECK(edge.last() == "classified 1 - taken=");
  CHECK(edge.proxies.at(0).local);
}

TEST_CASE("head intake: no valid PROXY header closes without an answer") {
  RecordingEdge edge;
  HeadIntake intake(proxied_heads(), edge);
  intake.added(1, {}, t0);
  intake.peeked(1, kHead, false);
  CHECK(edge.last() == "closed 1");
  intake.added(2, {}, t0);
  intake.peeked(2, "PROXY TCP4 203.0", true);  // ended in the middle of one
  CHECK(edge.last() == "closed 2");
  intake.added(3, {}, t0);
  intake.peeked(3, "PROXY TCP4 " + std::string(kMaxProxyHeader, '1'), false);  // too long to be one
  CHECK(edge.last() == "closed 3");
  intake.added(4, {}, t0);
  edge.consume_ok = false;  // the edge could not consume it
  intake.peeked(4, "PROXY UNKNOWN\r\n" + kHead, false);
  CHECK(edge.last() == "closed 4");
  CHECK(intake.size() == 0);
}

TEST_CASE("head intake: a partial head gets 408 at head_timeout, not before") {
  RecordingEdge edge;
  HeadIntake intake(heads(), edge);
  intake.added(1, {}, t0);
  intake.peeked(1, "GET /1/x HTTP/1.1\r\nHost: x\r\n", false);
  intake.added(2, {}, t0 + 500ms);
  intake.peeked(2, {}, false);  // a client that sends nothing gets 408 too
  CHECK(intake.next_deadline() == t0 + 2000ms);
  intake.tick(t0 + 1999ms);
  CHECK(edge.last() == "waiting 2 0");
  intake.tick(t0 + 2000ms);
  CHECK(edge.last() == "rejected 1 408");
  CHECK(intake.next_deadline() == t0 + 2500ms);
  intake.tick(t0 + 3000ms);
  CHECK(edge.last() == "rejected 2 408");
  CHECK(!intake.next_deadline());
}

TEST_CASE("head intake: too long → 431, malformed → 400, ended in the middle → 400, ended before a byte → closed") {
  RecordingEdge edge;
  HeadIntake intake(heads(64), edge);
  intake.added(1, {}, t0);
  CHECK(intake.peek_length(1) == 65);
  intake.peeked(1, "GET /1/x HTTP/1.1\r\nX-Big: " + std::string(40, 'b'), false);  // 65 bytes, no end
  CHECK(edge.last() == "rejected 1 431");
  intake.added(2, {}, t0);
  intake.arrived(2, "GET /1/x HTTP/1.1\r\nX-Big: " + std::string(60, 'b') + "\r\n\r\n");
  CHECK(edge.last() == "rejected 2 431");
  intake.added(3, {}, t0);
  intake.peeked(3, "HELLO THERE\r\n\r\n", false);
  CHECK(edge.last() == "rejected 3 400");
  intake.added(4, {}, t0);
  intake.peeked(4, std::string("\x16\x03\x01\x02", 4), false);  // TLS: no need to wait for more
  CHECK(edge.last() == "rejected 4 400");
  intake.added(5, {}, t0);
  intake.arrived(5, "GET /1/x HTTP/1.1\r\n");
  intake.peer_closed(5);
  CHECK(edge.last() == "rejected 5 400");
  intake.added(6, {}, t0);
  intake.peeked(6, {}, true);
  CHECK(edge.last() == "closed 6");
  intake.added(7, {}, t0);
  intake.lost(7);
  CHECK(edge.last() == "closed 7");
  CHECK(intake.size() == 0);
}

TEST_CASE("head intake: a PROXY header on a listener that does not take one is a malformed head") {
  RecordingEdge edge;
  HeadIntake intake(heads(1024), edge);
  intake.added(1, {}, t0);
  intake.peeked(1, "PROXY TCP4 203.0.113.7 127.0.0.1 5000 80\r\n" + kHead, false);
  CHECK(edge.last() == "rejected 1 400");
}

TEST_CASE("head intake: a hand-back with carried bytes, peeking: they stay first, the kernel's view after them") {
  RecordingEdge edge;
  HeadIntake intake(proxied_heads(), edge);  // its PROXY header was consumed long ago
  intake.added(1, {.carried = "GET /1/x HTTP/1.1\r\n", .handed_back = true}, t0);
  CHECK(intake.peek_length(1) == 1025 - 19);
  intake.peeked(1, {}, false);
  CHECK(edge.last() == "waiting 1 0");
  intake.peeked(1, "Host: x\r\n", false);
  CHECK(edge.last() == "waiting 1 9");
  intake.peeked(1, "Host: x\r\n\r\n", false);
  CHECK(edge.last() == "classified 1 GET /1/x taken=GET /1/x HTTP/1.1\r\n");
  CHECK(edge.proxies.empty());
}

TEST_CASE("head intake: a hand-back with carried bytes, reading: carried and read bytes are one buffer") {
  RecordingEdge edge;
  HeadIntake intake(heads(), edge);
  intake.added(1, {.carried = "GET /1/x HTTP/1.1\r\n", .handed_back = true}, t0);
  intake.arrived(1, {});
  CHECK(edge.last() == "waiting 1 0");
  intake.arrived(1, "Host: x\r\n\r\n");
  CHECK(edge.last() == "classified 1 GET /1/x taken=" + kHead);
  // A complete head carried: classified at the first report.
  intake.added(2, {.carried = kHead, .handed_back = true}, t0);
  intake.peeked(2, {}, false);
  CHECK(edge.last() == "classified 2 GET /1/x taken=" + kHead);
}

TEST_CASE("head intake: a hand-back with carried bytes that times out gets 408 (it asked something)") {
  RecordingEdge edge;
  HeadIntake intake(heads(), edge);
  intake.added(1, {.carried = "GET /1/x HTTP/1.1\r\n", .handed_back = true}, t0);
  intake.arrived(1, {});
  intake.tick(t0 + 2s);
  CHECK(edge.last() == "rejected 1 408");
}

TEST_CASE("head intake: an idle hand-back that asks nothing is closed without a word") {
  RecordingEdge edge;
  HeadIntake intake(heads(), edge);
  intake.added(1, {.carried = {}, .handed_back = true}, t0);
  intake.peeked(1, {}, false);
  intake.added(2, {.carried = {}, .handed_back = true}, t0);
  intake.arrived(2, {});
  intake.tick(t0 + 2s);
  REQUIRE(edge.effects.size() == 4);
  CHECK(edge.effects[2] == "closed 1");
  CHECK(edge.effects[3] == "closed 2");
  // Its client closing is no request either.
  intake.added(3, {.carried = {}, .handed_back = true}, t0);
  intake.peer_closed(3);
  CHECK(edge.last() == "closed 3");
}

TEST_CASE("head intake: idle hand-backs due are named, for a last look before the tick closes them") {
  RecordingEdge edge;
  HeadIntake intake(heads(), edge);
  intake.added(1, {.carried = {}, .handed_back = true}, t0);
  intake.peeked(1, {}, false);
  intake.added(2, {.carried = "GET /1/x HTTP/1.1\r\n", .handed_back = true}, t0);
  intake.peeked(2, {}, false);
  intake.added(3, {}, t0);
  intake.peeked(3, {}, false);
  intake.added(4, {.carried = {}, .handed_back = true}, t0 + 1s);
  intake.peeked(4, {}, false);
  CHECK(intake.idle_due(t0 + 1999ms).empty());
  CHECK(intake.idle_due(t0 + 2s) == std::vector<IntakeId>{1});
  // The last look finds the client's bytes after all: 408, not a silent close.
  intake.peeked(1, "GET /1/x HTTP/1.1\r\n", false);
  intake.tick(t0 + 2s);
  CHECK(edge.effects[edge.effects.size() - 3] == "rejected 1 408");
  CHECK(edge.effects[edge.effects.size() - 2] == "rejected 2 408");
  CHECK(edge.last() == "rejected 3 408");
  CHECK(intake.contains(4));
}

TEST_CASE("head intake: an idle hand-back whose client then sends half a head gets 408, peeking or reading") {
  // The regression of read mode: the bytes read after the hand-back were forgotten at
  // the timeout, and the client that asked was closed without its 408.
  RecordingEdge edge;
  HeadIntake intake(heads(), edge);
  intake.added(1, {.carried = {}, .handed_back = true}, t0);
  intake.peeked(1, {}, false);
  intake.peeked(1, "GET /1/x HTTP/1.1\r\nHost: x\r\n", false);
  intake.added(2, {.carried = {}, .handed_back = true}, t0);
  intake.arrived(2, {});
  intake.arrived(2, "GET /1/x HTTP/1.1\r\nHost: x\r\n");
  intake.tick(t0 + 2s);
  CHECK(edge.effects[edge.effects.size() - 2] == "rejected 1 408");
  CHECK(edge.last() == "rejected 2 408");
}

TEST_CASE("head intake: past max_classifying the oldest are closed first, without an answer") {
  RecordingEdge edge;
  HeadIntake intake(heads(64, 3), edge);
  for (IntakeId id = 1; id <= 6; ++id) {
    intake.added(id, {}, t0 + std::chrono::milliseconds(id));
    intake.peeked(id, "GET /1/x HTTP/1.1\r\nX-Slow: ", false);
  }
  std::vector<std::string> closed;
  for (const auto& e : edge.effects)
    if (e.starts_with("closed")) closed.push_back(e);
  CHECK(closed == std::vector<std::string>{"closed 1", "closed 2", "closed 3"});
  CHECK(intake.size() == 3);
  CHECK(!intake.contains(3));
  CHECK(intake.contains(4));
  CHECK(intake.next_deadline() == t0 + 2004ms);  // the oldest left
  // A classified one leaves room: the next comes without an eviction.
  intake.peeked(5, kHead, false);
  intake.added(7, {}, t0);
  CHECK(intake.contains(4));
  CHECK(intake.size() == 3);
}

TEST_CASE("head intake: effects may add connections (re-entrancy), and events for gone ones are ignored") {
  RecordingEdge edge;
  HeadIntake intake(heads(64, 1), edge);
  edge.intake = &intake;
  edge.add_on_close = {9};
  intake.added(1, {}, t0);
  intake.added(2, {}, t0);  // evicts 1; the edge adds 9 from closed(), evicted in turn
  CHECK(intake.contains(2));
  intake.peeked(1, kHead, false);
  intake.arrived(1, kHead);
  intake.peer_closed(1);
  intake.lost(1);
  CHECK(edge.effects.front() == "closed 1");
}

TEST_CASE("head intake: new settings apply to connections added after them") {
  RecordingEdge edge;
  HeadIntake intake(heads(), edge);
  intake.added(1, {}, t0);
  auto s = heads();
  s.head_timeout = 500ms;
  intake.set_settings(s);
  intake.added(2, {}, t0 + 2s);
  CHECK(intake.next_deadline() == t0 + 2s);
  intake.tick(t0 + 2500ms);
  CHECK(edge.effects == std::vector<std::string>{"rejected 1 408", "rejected 2 408"});
}
