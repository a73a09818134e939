// ChannelProtocol: the worker's decisions on the IPC channel, with no pipe.
#include "worker-sdk/cpp/src/channel_protocol.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using namespace handoff;

namespace {

struct FakeEdge final : ChannelProtocol::Events {
  int pending = 0;  // descriptors that arrived with the bytes so far
  std::vector<ipc::Conn> taken;
  int discarded = 0;
  std::vector<std::string> sent;
  std::vector<ipc::Welcome> welcomes;
  std::vector<ipc::Drain> drains;
  std::vector<ipc::Route> routes;
  std::vector<std::string> logs;
  std::vector<bool> answers;

  bool take_handle(const ipc::Conn& conn) override {
    if (pending == 0) return false;
    --pending;
    taken.push_back(conn);
    return true;
  }
  void discard_handle() override {
    if (pending > 0) {
      --pending;
      ++discarded;
    }
  }
  void welcome(const ipc::Welcome& w) override { welcomes.push_back(w); }
  void drain(const ipc::Drain& d) override { drains.push_back(d); }
  void route(const ipc::Route& r) override { routes.push_back(r); }
  void handle_answered(bool acknowledged) override { answers.push_back(acknowledged); }
  void send(std::string line) override { sent.push_back(std::move(line)); }
  void log(std::string_view what) override { logs.emplace_back(what); }
};

const std::string kAck = "{\"cmd\":\"NODE_HANDLE_ACK\"}\n";
const std::string kNack = "{\"cmd\":\"NODE_HANDLE_NACK\"}\n";

std::string handle_line(std::uint64_t id) {
  return ipc::encode(ipc::Handle{ipc::Conn{.id = id, .remote_address = "127.0.0.1", .remote_port = 5, .listener = "l", .head = {}}});
}

}  // namespace

TEST_CASE("channel protocol: a NODE_HANDLE with its socket is taken and ACKed") {
  ChannelProtocol p;
  FakeEdge edge;
  edge.pending = 1;
  p.feed(handle_line(7), edge);
  REQUIRE(edge.taken.size() == 1);
  CHECK(edge.taken[0].id == 7);
  CHECK(edge.taken[0].remote_address == "127.0.0.1");
  REQUIRE(edge.sent.size() == 1);
  CHECK(edge.sent[0] == kAck);
}

TEST_CASE("channel protocol: a NODE_HANDLE without a socket is NACKed") {
  ChannelProtocol p;
  FakeEdge edge;
  p.feed(handle_line(1), edge);
  CHECK(edge.taken.empty());
  REQUIRE(edge.sent.size() == 1);
  CHECK(edge.sent[0] == kNack);
}

TEST_CASE("channel protocol: a line split across reads is answered once, when complete") {
  const std::string line = handle_line(3);
  for (std::size_t cut = 1; cut < line.size(); ++cut) {
    ChannelProtocol p;
    FakeEdge edge;
    edge.pending = 1;  // the fd arrives with the first bytes
    p.feed(std::string_view(line).substr(0, cut), edge);
    CHECK(edge.sent.empty());
    p.feed(std::string_view(line).substr(cut), edge);
    REQUIRE(edge.sent.size() == 1);
    CHECK(edge.sent[0] == kAck);
  }
}

TEST_CASE("channel protocol: two handle lines with one socket: one ACK, one NACK, in order") {
  ChannelProtocol p;
  FakeEdge edge;
  edge.pending = 1;
  p.feed(handle_line(1) + handle_line(2), edge);
  REQUIRE(edge.sent.size() == 2);
  CHECK(edge.sent[0] == kAck);
  CHECK(edge.sent[1] == kNack);
  REQUIRE(edge.taken.size() == 1);
  CHECK(edge.taken[0].id == 1);
}

TEST_CASE("channel protocol: welcome is delivered") {
  ChannelProtocol p;
  FakeEdge edge;
  p.feed(ipc::encode(ipc::Welcome{.app = "chat", .slot = 2, .workers = 4, .generation = 3, .heartbeat_ms = 0, .route = {}}), edge);
  REQUIRE(edge.welcomes.size() == 1);
  CHECK(edge.welcomes[0].app == "chat");
  CHECK(edge.welcomes[0].slot == 2);
  CHECK(edge.welcomes[0].workers == 4);
  CHECK(edge.welcomes[0].generation == 3);
  CHECK(edge.sent.empty());
}

TEST_CASE("channel protocol: route after welcome is delivered, and answers nothing") {
  ChannelProtocol p;
  FakeEdge edge;
  ipc::RouteCheck rule;
  rule.rule = KeySource::header;
  rule.name = "x-room";
  p.feed(ipc::encode(ipc::Welcome{.app = "chat", .slot = 2, .workers = 2, .generation = 3}) +
             ipc::encode(ipc::Route{.workers = 4, .route = rule}) + ipc::encode(ipc::Route{.workers = 4, .route = {}}),
         edge);
  REQUIRE(edge.welcomes.size() == 1);
  REQUIRE(edge.routes.size() == 2);
  CHECK(edge.routes[0].workers == 4);
  CHECK(edge.routes[0].route == rule);
  CHECK(edge.routes[1].route.rule == KeySource::none);
  CHECK(edge.sent.empty());
  CHECK(edge.logs.empty());
}

TEST_CASE("channel protocol: welcome carries heartbeat_ms; drain is delivered, then handles still ACKed") {
  ChannelProtocol p;
  FakeEdge edge;
  p.feed("{\"handoff\":\"welcome\",\"v\":1,\"app\":\"x\",\"slot\":1,\"workers\":1,\"generation\":1,"
         "\"heartbeat_ms\":200}\n{\"handoff\":\"drain\",\"v\":1,\"timeout_ms\":5000}\n",
         edge);
  REQUIRE(edge.welcomes.size() == 1);
  CHECK(edge.welcomes[0].heartbeat_ms == 200);
  REQUIRE(edge.drains.size() == 1);
  CHECK(edge.drains[0].timeout_ms == 5000);
  CHECK(!edge.drains[0].handback);
  p.feed("{\"handoff\":\"drain\",\"v\":1,\"timeout_ms\":5000,\"handback\":true}\n", edge);
  REQUIRE(edge.drains.size() == 2);
  CHECK(edge.drains[1].handback);
  // A socket the master sent before its drain is still taken.
  edge.pending = 1;
  p.feed(handle_line(5), edge);
  REQUIRE(edge.sent.size() == 1);
  CHECK(edge.sent[0] == kAck);
}

TEST_CASE("channel protocol: the stats line decodes as what it claims") {
  const std::string line = ChannelProtocol::stats_line(ipc::Stats{.requests = 7, .connections = 2, .rss = 1 << 20});
  REQUIRE(line.back() == '\n');
  auto decoded = ipc::decode(std::string_view(line).substr(0, line.size() - 1));
  REQUIRE(std::holds_alternative<ipc::Message>(decoded));
  const auto* st = std::get_if<ipc::Stats>(&std::get<ipc::Message>(decoded));
  REQUIRE(st != nullptr);
  CHECK(st->requests == 7);
  CHECK(st->connections == 2);
  CHECK(st->rss == 1 << 20);
}

TEST_CASE("channel protocol: malformed and unknown lines are ignored and logged once") {
  ChannelProtocol p;
  FakeEdge edge;
  p.feed("not json\n{\"a\":1\n[1,2]\n{\"cmd\":\"NODE_SOMETHING\"}\n{\"handoff\":\"future\",\"v\":1}\n", edge);
  CHECK(edge.sent.empty());
  CHECK(edge.taken.empty());
  CHECK(edge.logs.size() == 2);  // one for malformed, one for unknown
  // The channel still works afterwards.
  edge.pending = 1;
  p.feed(handle_line(9), edge);
  REQUIRE(edge.sent.size() == 1);
  CHECK(edge.sent[0] == kAck);
}

TEST_CASE("channel protocol: an undecodable NODE_HANDLE drops its socket and is NACKed") {
  ChannelProtocol p;
  FakeEdge edge;
  edge.pending = 1;
  p.feed("{\"cmd\":\"NODE_HANDLE\",\"type\":\"net.Socket\",\"msg\":\"not an object\"}\n", edge);
  CHECK(edge.discarded == 1);
  CHECK(edge.taken.empty());
  REQUIRE(edge.sent.size() == 1);
  CHECK(edge.sent[0] == kNack);
  // The next handle line does not get the stale socket.
  p.feed(handle_line(2), edge);
  CHECK(edge.sent.back() == kNack);
}

TEST_CASE("channel protocol: oversize lines are skipped, the next line is served") {
  ChannelProtocol p(256);
  FakeEdge edge;
  edge.pending = 1;
  p.feed(std::string(1000, 'x') + "\n" + handle_line(4), edge);
  REQUIRE(edge.sent.size() == 1);
  CHECK(edge.sent[0] == kAck);
  CHECK(edge.logs.size() == 1);
}

TEST_CASE("channel protocol: hello and ready lines decode as what they claim") {
  auto hello = ipc::decode(ChannelProtocol::hello_line(1234).substr(0, ChannelProtocol::hello_line(1234).size() - 1));
  REQUIRE(std::holds_alternative<ipc::Message>(hello));
  const auto* h = std::get_if<ipc::Hello>(&std::get<ipc::Message>(hello));
  REQUIRE(h != nullptr);
  CHECK(h->sdk == "cpp");
  CHECK(h->pid == 1234);
  const std::string ready = ChannelProtocol::ready_line();
  CHECK(ready.back() == '\n');
  auto decoded = ipc::decode(std::string_view(ready).substr(0, ready.size() - 1));
  REQUIRE(std::holds_alternative<ipc::Message>(decoded));
  CHECK(std::holds_alternative<ipc::Ready>(std::get<ipc::Message>(decoded)));
}

TEST_CASE("channel protocol: a conn's head (bytes the master read) reaches the edge decoded") {
  ChannelProtocol p;
  FakeEdge edge;
  edge.pending = 1;
  std::string head = "POST /x HTTP/1.1\r\nContent-Length: 3\r\n\r\n";
  head.push_back('\0');
  head += "\xff\x01";
  p.feed(ipc::encode(ipc::Handle{ipc::Conn{.id = 9, .remote_address = "::1", .remote_port = 7, .listener = "web",
                                           .head = head}}),
         edge);
  REQUIRE(edge.taken.size() == 1);
  CHECK(edge.taken[0].head == head);
  CHECK(edge.taken[0].listener == "web");
}

TEST_CASE("channel protocol: the master's answers to our handback are reported, and the line is a NODE_HANDLE") {
  ChannelProtocol p;
  FakeEdge edge;
  p.feed(kAck + kNack, edge);
  CHECK(edge.answers == std::vector<bool>{true, false});
  CHECK(edge.sent.empty());  // an answer is not answered
  const std::string line = ChannelProtocol::handback_line(
      ipc::Handback{.id = 4, .remote_address = "127.0.0.1", .remote_port = 9, .listener = "web", .head = "GET /2/"});
  CHECK(line.starts_with("{\"cmd\":\"NODE_HANDLE\""));
  CHECK(line.ends_with("\n"));
  auto decoded = ipc::decode(std::string_view(line).substr(0, line.size() - 1));
  auto* message = std::get_if<ipc::Message>(&decoded);
  REQUIRE(message != nullptr);
  auto* back = std::get_if<ipc::Handback>(message);
  REQUIRE(back != nullptr);
  CHECK(back->id == 4);
  CHECK(back->head == "GET /2/");
  CHECK(back->listener == "web");
}
