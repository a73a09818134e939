// ipc::ChannelEnd: both ends of the IPC channel, the master's and a worker's, wired to
// each other in memory. Descriptors are numbers; a "read" is one feed with the
// descriptors that came with it, as Linux's recvmsg delivers them (protocols/handle_pairing.h).
#include "protocols/channel_end.h"

#include <doctest/doctest.h>

#include <deque>
#include <random>
#include <string>
#include <utility>
#include <vector>

using namespace handoff;
using ipc::ChannelEnd;
using ipc::Role;
using Ignored = ChannelEnd::Ignored;

namespace {

// One end and what its adapter would do: hold descriptors, record decisions.
struct End final : ChannelEnd::Effects {
  struct Written {
    std::string line;
    std::uint64_t handle;  // the ChannelEnd's number: the line goes with our held descriptor
  };

  explicit End(Role role, std::size_t max_line = ipc::kDefaultMaxMessageBytes) : end(role, max_line) {}

  ChannelEnd end;
  std::vector<Written> out;    // written, not delivered yet
  std::deque<int> held;        // received descriptors not taken yet
  int outgoing = 0;            // the descriptor of our handle in flight
  std::vector<int> taken, closed;
  std::vector<std::uint64_t> taken_ids;  // the conn (worker) or handback (master) ids
  std::vector<ipc::Message> taken_messages;
  std::vector<ipc::Message> messages;
  std::vector<bool> settled;
  std::vector<std::string> violations;
  std::vector<std::pair<Ignored, std::string>> ignores;
  bool refuse_descriptors = false;  // take_descriptor fails (a socket the adapter cannot use)

  bool write(std::string line, std::uint64_t handle) override {
    out.push_back({std::move(line), handle});
    return true;
  }
  void message(const ipc::Message& m) override { messages.push_back(m); }
  bool take_descriptor(const ipc::Message& m) override {
    REQUIRE(!held.empty());
    const int fd = held.front();
    held.pop_front();
    if (refuse_descriptors) {
      closed.push_back(fd);
      return false;
    }
    taken.push_back(fd);
    taken_messages.push_back(m);
    if (const auto* h = std::get_if<ipc::Handle>(&m)) taken_ids.push_back(h->conn.id);
    if (const auto* b = std::get_if<ipc::Handback>(&m)) taken_ids.push_back(b->id);
    return true;
  }
  void close_descriptor() override {
    REQUIRE(!held.empty());
    closed.push_back(held.front());
    held.pop_front();
  }
  void handle_settled(bool taken_by_peer) override {
    settled.push_back(taken_by_peer);
    outgoing = 0;
  }
  void violation(const std::string& reason) override {
    violations.push_back(reason);
    for (int fd : held) closed.push_back(fd);
    held.clear();
  }
  void ignored(Ignored kind, std::string_view detail) override { ignores.emplace_back(kind, detail); }

  // A read of `bytes` with `fds` (each held until a line takes it or it is closed).
  void read(std::string_view bytes, std::vector<int> fds = {}) {
    for (int fd : fds) held.push_back(fd);
    end.feed(bytes, fds.size(), *this);
  }
  bool send_handle(std::string line, int fd) {
    if (end.handle_in_flight()) return false;
    outgoing = fd;
    return end.send_handle(std::move(line), *this);
  }
};

// What happens to the descriptor of each handle line on the way (a fault of the kernel
// or of a buggy peer's sender): it arrives, or it is lost.
enum class Fd { arrives, lost };

// Delivers everything `from` wrote to `to`, one read per line, then gives the bytes of
// handle lines back to `from` (its write completed).
void deliver(End& from, End& to, Fd fd = Fd::arrives) {
  auto lines = std::move(from.out);
  from.out.clear();
  for (auto& w : lines) {
    std::vector<int> fds;
    if (w.handle != 0 && fd == Fd::arrives) fds.push_back(from.outgoing);
    to.read(w.line, fds);
    if (w.handle != 0) from.end.written(w.handle, std::move(w.line), from);
  }
}

std::string conn_line(std::uint64_t id) {
  return ipc::encode(ipc::Handle{ipc::Conn{.id = id, .remote_address = "127.0.0.1", .remote_port = 5, .listener = "l", .head = {}}});
}
std::string handback_line(std::uint64_t id) {
  return ipc::encode(ipc::Handback{.id = id, .remote_address = "127.0.0.1", .remote_port = 9, .listener = "web", .head = "GET /2/"});
}

const std::string kAck = "{\"cmd\":\"NODE_HANDLE_ACK\"}\n";
const std::string kNack = "{\"cmd\":\"NODE_HANDLE_NACK\"}\n";

// Feeds `stream` to `end` in random reads, as Linux may cut it: a read ends right after
// the data that carried a descriptor, so the read holding a line's first byte (which carries
// its descriptor, 100 + its index in `fd_lines`) ends within that line. Bounded.
void read_in_random_splits(End& end, std::string_view stream,
                           const std::vector<std::pair<std::size_t, std::size_t>>& fd_lines, std::mt19937& random) {
  std::size_t pos = 0, next_fd = 0;
  for (int guard = 0; guard < 10000 && pos < stream.size(); ++guard) {
    std::size_t stop = pos + 1 + random() % (stream.size() - pos);
    std::vector<int> fds;
    if (next_fd < fd_lines.size() && fd_lines[next_fd].first < stop) {
      const auto [first, last] = fd_lines[next_fd];
      stop = first + 1 + random() % (last - first);  // ends within the descriptor's line
      fds.push_back(static_cast<int>(100 + next_fd));
      ++next_fd;
    }
    end.read(stream.substr(pos, stop - pos), fds);
    pos = stop;
  }
  REQUIRE(pos == stream.size());
}

std::vector<std::string> lines_of(const End& e) {
  std::vector<std::string> lines;
  for (const auto& w : e.out) lines.push_back(w.line);
  return lines;
}

}  // namespace

// ---- both ends, wired ----

TEST_CASE("channel end: the master's handle reaches the worker with its socket and is ACKed") {
  End master(Role::master), worker(Role::worker);
  REQUIRE(master.send_handle(conn_line(7), 70));
  deliver(master, worker);
  CHECK(worker.taken == std::vector<int>{70});
  CHECK(worker.taken_ids == std::vector<std::uint64_t>{7});
  CHECK(lines_of(worker) == std::vector<std::string>{kAck});
  deliver(worker, master);
  CHECK(master.settled == std::vector<bool>{true});
  CHECK(!master.end.handle_in_flight());
  CHECK(master.violations.empty());
}

TEST_CASE("channel end: a worker's handback reaches the master with its socket and is ACKed") {
  End master(Role::master), worker(Role::worker);
  REQUIRE(worker.send_handle(handback_line(4), 40));
  deliver(worker, master);
  CHECK(master.taken == std::vector<int>{40});
  CHECK(master.taken_ids == std::vector<std::uint64_t>{4});
  deliver(master, worker);
  CHECK(worker.settled == std::vector<bool>{true});
}

TEST_CASE("channel end: a line that came without its descriptor is NACKed, sent again, and ACKed") {
  End master(Role::master), worker(Role::worker);
  REQUIRE(master.send_handle(conn_line(1), 10));
  deliver(master, worker, Fd::lost);
  CHECK(worker.taken.empty());
  CHECK(lines_of(worker) == std::vector<std::string>{kNack});
  deliver(worker, master);
  CHECK(master.settled.empty());  // not settled: the same line and descriptor again
  REQUIRE(master.out.size() == 1);
  CHECK(master.out[0].line == conn_line(1));
  CHECK(master.out[0].handle != 0);
  deliver(master, worker);
  CHECK(worker.taken == std::vector<int>{10});
  deliver(worker, master);
  CHECK(master.settled == std::vector<bool>{true});
}

TEST_CASE("channel end: a handle NACKed beyond kMaxHandleResends is refused; a worker's, the master reports") {
  // The master's handle: the worker NACKs every send; the master's end gives up.
  End master(Role::master), worker(Role::worker);
  REQUIRE(master.send_handle(conn_line(3), 30));
  int sends = 0;
  for (int guard = 0; guard < 10 && master.settled.empty(); ++guard) {
    sends += static_cast<int>(master.out.size());
    deliver(master, worker, Fd::lost);
    deliver(worker, master);
  }
  CHECK(sends == 1 + ipc::kMaxHandleResends);
  CHECK(master.settled == std::vector<bool>{false});
  CHECK(!master.end.handle_in_flight());
  CHECK(master.send_handle(conn_line(4), 40));  // the next one goes, with its own resends

  // A worker's handback: the same bound, counted by the master as the receiver.
  End master2(Role::master), worker2(Role::worker);
  REQUIRE(worker2.send_handle(handback_line(3), 30));
  sends = 0;
  for (int guard = 0; guard < 10 && master2.violations.empty(); ++guard) {
    sends += static_cast<int>(worker2.out.size());
    deliver(worker2, master2, Fd::lost);
    deliver(master2, worker2);
  }
  CHECK(sends == 1 + ipc::kMaxHandleResends);
  CHECK(master2.violations == std::vector<std::string>{"handback messages without their socket, 4 in a row"});
  CHECK(worker2.settled.empty());  // its worker is killed for it
}

TEST_CASE("channel end: handback lines without their socket, again and again, are the worker's violation") {
  End master(Role::master);
  for (int i = 0; i < ipc::kMaxHandleResends; ++i) master.read(handback_line(1));
  CHECK(lines_of(master) == std::vector<std::string>(ipc::kMaxHandleResends, kNack));
  CHECK(master.violations.empty());
  master.read(handback_line(1));
  CHECK(master.violations == std::vector<std::string>{"handback messages without their socket, 4 in a row"});
  CHECK(master.end.broken());
  // One that came with its socket would have reset the count.
  End other(Role::master);
  for (int i = 0; i < ipc::kMaxHandleResends; ++i) other.read(handback_line(1));
  other.read(handback_line(2), {20});
  for (int i = 0; i < ipc::kMaxHandleResends; ++i) other.read(handback_line(1));
  CHECK(other.violations.empty());
  CHECK(other.taken == std::vector<int>{20});
}

TEST_CASE("channel end: one handle in flight; the next is refused until the first settles") {
  End master(Role::master), worker(Role::worker);
  REQUIRE(master.send_handle(conn_line(1), 10));
  CHECK(!master.end.send_handle(conn_line(2), master));
  CHECK(master.out.size() == 1);
  deliver(master, worker);
  deliver(worker, master);
  CHECK(master.send_handle(conn_line(2), 20));
  deliver(master, worker);
  deliver(worker, master);
  CHECK(worker.taken == std::vector<int>{10, 20});
  CHECK(master.settled == std::vector<bool>{true, true});
}

TEST_CASE("channel end: with a window, several handles go before the first answer, and answers settle them in order") {
  End master(Role::master), worker(Role::worker);
  master.end.set_window(3);
  for (std::uint64_t id = 1; id <= 3; ++id) REQUIRE(master.end.send_handle(conn_line(id), master));
  CHECK(!master.end.send_handle(conn_line(4), master));  // the window is full
  CHECK(master.end.handles_in_flight() == 3);
  // Each arrives in its own read with its descriptor (unix(7) ends a read after them).
  auto lines = std::move(master.out);
  master.out.clear();
  int fd = 10;
  for (auto& w : lines) {
    worker.read(w.line, {fd++});
    master.end.written(w.handle, std::move(w.line), master);  // kept for nothing: no resends
  }
  CHECK(worker.taken == std::vector<int>{10, 11, 12});
  CHECK(worker.taken_ids == std::vector<std::uint64_t>{1, 2, 3});
  CHECK(lines_of(worker) == std::vector<std::string>{kAck, kAck, kAck});
  master.read(kAck + kAck);  // two answers in one read
  CHECK(master.settled == std::vector<bool>{true, true});
  CHECK(master.end.handles_in_flight() == 1);
  // A handle whose write failed is not in flight.
  REQUIRE(master.end.begin_handle() != 0);
  master.end.cancel_handle();
  CHECK(master.end.handles_in_flight() == 1);
  master.read(kAck);
  CHECK(master.settled.size() == 3);
  CHECK(!master.end.handle_in_flight());
}

TEST_CASE("channel end (master): a NACK with a window is a violation, not a resend that would reorder the answers") {
  End master(Role::master);
  master.end.set_window(2);
  REQUIRE(master.end.send_handle(conn_line(1), master));
  REQUIRE(master.end.send_handle(conn_line(2), master));
  master.read(kNack);
  CHECK(master.out.size() == 2);  // nothing sent again
  REQUIRE(master.violations.size() == 1);
  CHECK(master.violations[0] == "a NACK from a worker that takes 2 handles at a time");
  CHECK(!master.end.handle_in_flight());  // abandoned: the adapter's go to the next worker
  CHECK(master.settled.empty());
}

TEST_CASE("channel end: a NACK before the write completed resends when the bytes come back") {
  End master(Role::master), worker(Role::worker);
  REQUIRE(master.send_handle(conn_line(1), 10));
  auto first = std::move(master.out.front());
  master.out.clear();
  worker.read(first.line);  // without its descriptor
  deliver(worker, master);  // the NACK, before the write's callback
  CHECK(master.out.empty());
  master.end.written(first.handle, std::move(first.line), master);
  REQUIRE(master.out.size() == 1);
  CHECK(master.out[0].line == conn_line(1));
  deliver(master, worker);
  deliver(worker, master);
  CHECK(master.settled == std::vector<bool>{true});
}

TEST_CASE("channel end: an answer to nothing in flight, or bytes of a settled handle, change nothing") {
  End worker(Role::worker);
  worker.read(kAck + kNack);
  CHECK(worker.settled.empty());
  CHECK(worker.out.empty());  // an answer is not answered
  REQUIRE(worker.send_handle(handback_line(1), 10));
  const auto handle = worker.out.front().handle;
  worker.read(kAck);
  CHECK(worker.settled == std::vector<bool>{true});
  worker.end.written(handle, "late bytes\n", worker);  // the write's callback after the ACK
  worker.read(kNack);
  CHECK(worker.out.size() == 1);  // only the first send
}

// ---- the master's end: what a worker sends is untrusted ----

TEST_CASE("channel end (master): a descriptor split from the rest of its line is paired when the line completes") {
  const std::string line = handback_line(5);
  for (std::size_t cut = 1; cut < line.size(); ++cut) {
    End master(Role::master);
    master.read(std::string_view(line).substr(0, cut), {50});
    CHECK(master.taken.empty());
    master.read(std::string_view(line).substr(cut));
    CHECK(master.taken == std::vector<int>{50});
    CHECK(lines_of(master) == std::vector<std::string>{kAck});
    CHECK(master.violations.empty());
  }
}

TEST_CASE("channel end (master): handbacks and other lines, read in any split the kernel may make, pair every socket with its line") {
  // Linux ends a read right after the data that carried descriptors: the read holding a
  // line's first byte (which carries its descriptor) ends within that line. Any other cut
  // is allowed. Deterministic (fixed seed), bounded.
  std::mt19937 random(17);
  for (int round = 0; round < 200; ++round) {
    std::string stream;
    std::vector<std::pair<std::size_t, std::size_t>> fd_lines;  // [start, end) of lines with a descriptor
    std::vector<std::uint64_t> ids;
    for (std::uint64_t i = 1; i <= 12; ++i) {
      if (random() % 3 == 0) stream += ipc::encode(ipc::Stats{.requests = i, .connections = 1, .rss = 0});
      const std::size_t start = stream.size();
      stream += handback_line(i);
      fd_lines.emplace_back(start, stream.size());
      ids.push_back(i);
    }
    End master(Role::master);
    read_in_random_splits(master, stream, fd_lines, random);
    CHECK(master.violations.empty());
    CHECK(master.taken_ids == ids);
    CHECK(master.taken.size() == ids.size());
    for (std::size_t i = 0; i < master.taken.size(); ++i) CHECK(master.taken[i] == static_cast<int>(100 + i));
    CHECK(lines_of(master) == std::vector<std::string>(ids.size(), kAck));
  }
}

TEST_CASE("channel end (master): ACKs among other lines, read in any split, settle in order (their fast path and the framer's agree)") {
  // A read that begins with whole ACKs settles them without framing; whatever follows, or
  // an ACK cut by the read, goes through the framer. Deterministic (fixed seed), bounded.
  std::mt19937 random(23);
  for (int round = 0; round < 200; ++round) {
    std::string stream;
    std::vector<std::pair<std::size_t, std::size_t>> fd_lines;
    std::vector<std::uint64_t> ids;
    std::size_t acks = 0, stats = 0;
    for (std::uint64_t i = 1; i <= 12; ++i) {
      for (int a = static_cast<int>(random() % 3); a > 0 && acks < 16; --a, ++acks) stream += kAck;
      if (random() % 3 == 0) {
        stream += ipc::encode(ipc::Stats{.requests = i, .connections = 1, .rss = 0});
        ++stats;
      }
      if (random() % 2 == 0) {
        const std::size_t start = stream.size();
        stream += handback_line(i);
        fd_lines.emplace_back(start, stream.size());
        ids.push_back(i);
      }
    }
    End master(Role::master);
    master.end.set_window(16);
    for (std::size_t h = 0; h < acks; ++h) REQUIRE(master.end.begin_handle() != 0);
    read_in_random_splits(master, stream, fd_lines, random);
    CHECK(master.violations.empty());
    CHECK(master.settled == std::vector<bool>(acks, true));
    CHECK(master.end.handles_in_flight() == 0);
    CHECK(master.taken_ids == ids);
    CHECK(master.messages.size() == stats);
  }
}

TEST_CASE("channel end (master): the protocol's violations are reported once and close what it holds") {
  struct Case {
    const char* what;
    std::string bytes;
    std::vector<int> fds;
    std::string reason;
  };
  const std::vector<Case> cases{
      {"two descriptors in one read", handback_line(1), {1, 2}, "2 descriptors in one message"},
      {"a descriptor with a line that carries none", ipc::encode(ipc::Stats{}), {1},
       "a descriptor with a message that carries none (stats)"},
      {"a descriptor with an ACK", kAck, {1}, "a descriptor with a message that carries none (NODE_HANDLE_ACK)"},
      {"a descriptor with a malformed line", "{\"cmd\":\"NODE_HANDLE\"\n", {1}, ""},
      {"a descriptor with an oversize line", std::string(300, 'x') + "\n", {1},
       "a descriptor with a message over the size limit"},
      {"a descriptor while the unfinished line has one", "{\"cmd\":", {1}, "two descriptors with one message"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.what);
    End master(Role::master, 256);
    if (c.reason == "two descriptors with one message") master.read("{\"cmd\":", {9});
    master.read(c.bytes, c.fds);
    REQUIRE(master.violations.size() == 1);
    if (!c.reason.empty()) CHECK(master.violations[0] == c.reason);
    else CHECK(master.violations[0].starts_with("a descriptor with a malformed message ("));
    CHECK(master.held.empty());
    CHECK(master.taken.empty());
    // Nothing it sends afterwards is believed; descriptors that still come are closed.
    master.read(handback_line(2), {3});
    CHECK(master.taken.empty());
    CHECK(master.violations.size() == 1);
    CHECK(master.held.empty());
  }
}

TEST_CASE("channel end (master): a descriptor that could not be taken is a violation") {
  End master(Role::master);
  master.end.feed(handback_line(1), 0, master, "a descriptor that is not a TCP socket (pipe)");
  CHECK(master.violations == std::vector<std::string>{"a descriptor that is not a TCP socket (pipe)"});
  CHECK(master.out.empty());
}

TEST_CASE("channel end (master): malformed and oversize lines without a descriptor are dropped, each, and the ACK after them is read") {
  End master(Role::master, 256), worker(Role::worker);
  REQUIRE(master.send_handle(conn_line(1), 10));
  deliver(master, worker);
  master.read("this is not json\n" + std::string(300, 'x') + "\nnot json either\n" + lines_of(worker)[0]);
  CHECK(master.settled == std::vector<bool>{true});
  REQUIRE(master.ignores.size() == 3);
  CHECK(master.ignores[0].first == Ignored::malformed);
  CHECK(master.ignores[1] == std::pair<Ignored, std::string>{Ignored::oversize, "300"});
  CHECK(master.ignores[2].first == Ignored::malformed);
  CHECK(master.violations.empty());
}

TEST_CASE("channel end (master): hello, stats and a worker's other messages are delivered; unknown ones ignored") {
  End master(Role::master);
  master.read(ipc::encode(ipc::Hello{.sdk = "cpp", .version = ipc::kVersion, .pid = 12}) + ipc::encode(ipc::Ready{}) +
              "{\"handoff\":\"future\",\"v\":1}\n");
  REQUIRE(master.messages.size() == 2);
  CHECK(std::holds_alternative<ipc::Hello>(master.messages[0]));
  CHECK(std::holds_alternative<ipc::Ready>(master.messages[1]));
  REQUIRE(master.ignores.size() == 1);
  CHECK(master.ignores[0].first == Ignored::unknown);
}

// ---- a worker's end: Node's receiver, trusting the master ----

TEST_CASE("channel end (worker): a NODE_HANDLE split across reads is answered once, when complete") {
  const std::string line = conn_line(3);
  for (std::size_t cut = 1; cut < line.size(); ++cut) {
    End worker(Role::worker);
    worker.read(std::string_view(line).substr(0, cut), {30});
    CHECK(worker.out.empty());
    worker.read(std::string_view(line).substr(cut));
    CHECK(lines_of(worker) == std::vector<std::string>{kAck});
    CHECK(worker.taken == std::vector<int>{30});
  }
}

TEST_CASE("channel end (worker): two handle lines with one descriptor: the last to begin takes it") {
  End worker(Role::worker);
  worker.read(conn_line(1) + conn_line(2), {20});
  CHECK(lines_of(worker) == std::vector<std::string>{kNack, kAck});
  CHECK(worker.taken_ids == std::vector<std::uint64_t>{2});
}

TEST_CASE("channel end (worker): what breaks the pairing is closed, logged once, and its lines NACKed") {
  End worker(Role::worker);
  worker.read(conn_line(1), {1, 2});
  CHECK(worker.closed == std::vector<int>{1, 2});
  CHECK(lines_of(worker) == std::vector<std::string>{kNack});
  worker.read(conn_line(2), {3, 4});
  REQUIRE(worker.ignores.size() == 1);
  CHECK(worker.ignores[0] == std::pair<Ignored, std::string>{Ignored::descriptor, "2 descriptors in one message"});
  CHECK(worker.violations.empty());
  worker.read(conn_line(3), {5});  // the channel still works
  CHECK(worker.taken == std::vector<int>{5});
}

TEST_CASE("channel end (worker): a descriptor it cannot use, or one with a line that is not a handle, is closed") {
  End worker(Role::worker);
  worker.refuse_descriptors = true;
  worker.read(conn_line(1), {1});
  CHECK(worker.closed == std::vector<int>{1});
  CHECK(lines_of(worker) == std::vector<std::string>{kNack});
  worker.refuse_descriptors = false;
  worker.read(ipc::encode(ipc::Drain{.timeout_ms = 5, .handback = false}), {2});
  CHECK(worker.closed == std::vector<int>{1, 2});
  CHECK(worker.messages.size() == 1);  // the drain still counts
  worker.end.feed(conn_line(3), 0, worker, "a descriptor that is not a TCP socket (pipe)");
  CHECK(lines_of(worker).back() == kNack);
  CHECK(worker.violations.empty());
}

TEST_CASE("channel end (worker): an undecodable NODE_HANDLE drops its descriptor and is NACKed") {
  End worker(Role::worker);
  worker.read("{\"cmd\":\"NODE_HANDLE\",\"type\":\"net.Socket\",\"msg\":\"not an object\"}\n", {1});
  CHECK(worker.closed == std::vector<int>{1});
  CHECK(lines_of(worker) == std::vector<std::string>{kNack});
  worker.read(conn_line(2));  // the next handle line does not get the stale descriptor
  CHECK(lines_of(worker).back() == kNack);
  CHECK(worker.taken.empty());
}

TEST_CASE("channel end (worker): malformed, unknown and oversize lines are ignored, each kind reported once") {
  End worker(Role::worker, 256);
  worker.read("not json\n{\"a\":1\n[1,2]\n{\"cmd\":\"NODE_SOMETHING\"}\n{\"handoff\":\"future\",\"v\":1}\n");
  worker.read(std::string(1000, 'x') + "\n" + std::string(1000, 'y') + "\n");
  CHECK(worker.out.empty());
  REQUIRE(worker.ignores.size() == 3);
  CHECK(worker.ignores[0].first == Ignored::malformed);
  CHECK(worker.ignores[1].first == Ignored::unknown);
  CHECK(worker.ignores[2].first == Ignored::oversize);
  worker.read(std::string(1000, 'z') + "\n" + conn_line(4), {40});  // the next line is served
  CHECK(worker.taken == std::vector<int>{40});
}

TEST_CASE("channel end (worker): welcome, route and drain are delivered and answer nothing") {
  End worker(Role::worker);
  ipc::RouteCheck rule;
  rule.rule = KeySource::header;
  rule.name = "x-room";
  worker.read(ipc::encode(ipc::Welcome{.app = "chat", .slot = 2, .workers = 2, .generation = 3}) +
              ipc::encode(ipc::Route{.workers = 4, .route = rule}) +
              "{\"handoff\":\"drain\",\"v\":1,\"timeout_ms\":5000,\"handback\":true}\n");
  REQUIRE(worker.messages.size() == 3);
  CHECK(std::get<ipc::Welcome>(worker.messages[0]).app == "chat");
  CHECK(std::get<ipc::Route>(worker.messages[1]).route == rule);
  CHECK(std::get<ipc::Drain>(worker.messages[2]).handback);
  CHECK(worker.out.empty());
  CHECK(worker.ignores.empty());
}

TEST_CASE("channel end (worker): a conn's head (bytes the master read) is decoded for the adapter") {
  End worker(Role::worker);
  std::string head = "POST /x HTTP/1.1\r\nContent-Length: 3\r\n\r\n";
  head.push_back('\0');
  head += "\xff\x01";
  worker.read(ipc::encode(ipc::Handle{ipc::Conn{.id = 9, .remote_address = "::1", .remote_port = 7, .listener = "web", .head = head}}),
              {1});
  REQUIRE(worker.taken_messages.size() == 1);
  CHECK(std::get<ipc::Handle>(worker.taken_messages[0]).conn.head == head);
  CHECK(std::get<ipc::Handle>(worker.taken_messages[0]).conn.listener == "web");
  CHECK(lines_of(worker) == std::vector<std::string>{kAck});
}
