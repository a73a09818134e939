#include <doctest/doctest.h>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "supervisor/core/slot_machine.h"

using namespace handoff;
using namespace std::chrono_literals;

namespace {

// Records what the machine asks for; stands in for processes in these tests only.
struct Recorder final : SlotEffects {
  std::vector<int> spawned;
  std::vector<bool> spawned_as_replacement;
  std::vector<int> drained, killed;
  std::vector<bool> handed_back;  // the `hand_back` of each drain, in order
  const SlotMachine* machine = nullptr;  // when set: what the machine says during drain()
  std::vector<bool> drained_sdk;
  std::vector<std::string> events;
  std::vector<std::map<std::string, std::string>> event_fields;
  std::vector<bool> replacements;
  bool fail_spawn = false;
  double jitter = 0.5;
  WorkerFacts worker_facts;            // what facts() finds, for any generation
  std::vector<std::string> timeline;   // "facts 1", "kill 1": the order the effects came in

  bool spawn(int generation, bool replacement, std::string& error) override {
    if (fail_spawn) {
      error = "no such file";
      return false;
    }
    spawned.push_back(generation);
    spawned_as_replacement.push_back(replacement);
    return true;
  }
  void drain(int generation, std::chrono::milliseconds, bool hand_back) override {
    drained.push_back(generation);
    handed_back.push_back(hand_back);
    if (machine) drained_sdk.push_back(machine->speaks_sdk(generation));
  }
  void kill(int generation) override {
    killed.push_back(generation);
    timeline.push_back("kill " + std::to_string(generation));
  }
  WorkerFacts facts(int generation) override {
    timeline.push_back("facts " + std::to_string(generation));
    return worker_facts;
  }
  void event(const LifecycleEvent& e) override {
    events.emplace_back(e.name);
    std::map<std::string, std::string> f;
    for (const auto& [k, v] : e.fields) f[std::string(k)] = v;
    event_fields.push_back(f);
  }
  void replacement_done(bool ok) override { replacements.push_back(ok); }
  double random() override { return jitter; }

  std::vector<std::int64_t> backoff_delays() const {
    std::vector<std::int64_t> out;
    for (std::size_t i = 0; i < events.size(); ++i)
      if (events[i] == "backoff") out.push_back(std::stoll(event_fields[i].at("delay_ms")));
    return out;
  }
  bool saw(const std::string& name) const { return std::find(events.begin(), events.end(), name) != events.end(); }
  // The fields of the last event of that name.
  std::map<std::string, std::string> last(const std::string& name) const {
    for (std::size_t i = events.size(); i-- > 0;)
      if (events[i] == name) return event_fields[i];
    FAIL("no event " << name);
    return {};
  }
};

LifecyclePolicy policy() {
  LifecyclePolicy p;
  p.min_delay = 100ms;
  p.max_delay = 2s;
  p.stable_after = 10s;
  p.crash_loop_exits = 5;
  p.crash_loop_window = 60s;
  p.start_timeout = 5s;
  p.heartbeat_timeout = 3s;
  p.drain_timeout = 10s;
  return p;
}

const TimePoint t0{};
const ExitStatus crash{1, 0, false};

// Crashes the current worker and lets the restart timer fire, n times.
void crash_repeatedly(SlotMachine& m, Recorder& r, TimePoint& now, int n) {
  for (int i = 0; i < n; ++i) {
    m.exited(r.spawned.back(), crash, now);
    REQUIRE(m.next_deadline().has_value());
    now = *m.next_deadline();
    m.tick(now);
  }
}

}  // namespace

TEST_CASE("start, ready: connections go to the ready generation") {
  Recorder r;
  SlotMachine m(policy(), r);
  m.start(t0);
  CHECK(r.spawned == std::vector<int>{1});
  CHECK(m.state() == SlotState::starting);
  CHECK_FALSE(m.accepting().has_value());
  m.ready(1, t0 + 50ms);
  CHECK(m.state() == SlotState::ready);
  CHECK(m.accepting() == 1);
}

TEST_CASE("backoff doubles with jitter, caps at max_delay, then crash_loop retries at max_delay") {
  Recorder r;
  r.jitter = 0.0;  // lower edge of each range: base / 2
  SlotMachine m(policy(), r);
  TimePoint now = t0;
  m.start(now);
  m.ready(1, now);
  crash_repeatedly(m, r, now, 4);
  CHECK(r.backoff_delays() == std::vector<std::int64_t>{50, 100, 200, 400});
  crash_repeatedly(m, r, now, 4);
  const auto delays = r.backoff_delays();
  // The fifth crash within the window is a crash loop: max_delay from then on.
  CHECK(delays == std::vector<std::int64_t>{50, 100, 200, 400, 2000, 2000, 2000, 2000});
  CHECK(r.saw("crash_loop"));
  m.exited(r.spawned.back(), crash, now);
  CHECK(m.state() == SlotState::crash_loop);
  // It never gives up: the timer still starts a new worker.
  now = *m.next_deadline();
  const auto before = r.spawned.size();
  m.tick(now);
  CHECK(r.spawned.size() == before + 1);
}

TEST_CASE("delays never shrink while growing, whatever the jitter") {
  for (double jitter : {0.0, 0.3, 0.99}) {
    Recorder r;
    r.jitter = jitter;
    auto p = policy();
    p.crash_loop_exits = 100;
    p.max_delay = 5s;
    SlotMachine m(p, r);
    TimePoint now = t0;
    m.start(now);
    crash_repeatedly(m, r, now, 12);
    const auto d = r.backoff_delays();
    for (std::size_t i = 1; i < d.size(); ++i) CHECK(d[i] >= d[i - 1]);
    CHECK(d.back() == 5000);
  }
}

TEST_CASE("a worker up for stable_after resets the backoff") {
  Recorder r;
  r.jitter = 0.0;
  SlotMachine m(policy(), r);
  TimePoint now = t0;
  m.start(now);
  crash_repeatedly(m, r, now, 3);
  m.ready(r.spawned.back(), now);
  now += 11s;
  m.exited(r.spawned.back(), crash, now);
  CHECK(r.backoff_delays().back() == 50);
}

TEST_CASE("exit before ready is a start failure; no ready within start_timeout is killed") {
  Recorder r;
  SlotMachine m(policy(), r);
  m.start(t0);
  m.exited(1, crash, t0 + 10ms);
  CHECK(r.events.at(r.events.size() - 2) == "start_failure");
  CHECK(m.state() == SlotState::backoff);
  m.tick(*m.next_deadline());
  REQUIRE(r.spawned.size() == 2);
  CHECK(*m.next_deadline() == t0 + 10ms + std::chrono::milliseconds(r.backoff_delays()[0]) + 5s);
  m.tick(*m.next_deadline());
  CHECK(r.killed == std::vector<int>{2});
  m.exited(2, ExitStatus{0, 9, false}, *m.next_deadline() + 1ms);
  CHECK(r.event_fields[r.events.size() - 2].at("reason") == "no ready within start_timeout");
}

TEST_CASE("an SDK worker that stops sending heartbeats is killed; a plain one is not checked") {
  Recorder r;
  SlotMachine m(policy(), r);
  m.start(t0);
  m.hello(1);
  m.ready(1, t0);
  m.heartbeat(1, 0, t0 + 2s);
  CHECK(*m.next_deadline() == t0 + 5s);
  m.tick(t0 + 4s);
  CHECK(r.killed.empty());
  m.tick(t0 + 5s);
  CHECK(r.killed == std::vector<int>{1});

  Recorder plain;
  SlotMachine p(policy(), plain);
  p.start(t0);
  p.ready(1, t0);
  CHECK_FALSE(p.next_deadline().has_value());
}

TEST_CASE("max_requests: a replacement starts, takes over when ready, and the old one drains") {
  Recorder r;
  auto pol = policy();
  pol.max_requests = 100;
  pol.max_requests_jitter = 10;
  r.jitter = 0.5;  // quota 100 + 5
  SlotMachine m(pol, r);
  m.start(t0);
  m.ready(1, t0);
  m.heartbeat(1, 104, t0 + 1s);
  CHECK(r.spawned.size() == 1);
  m.heartbeat(1, 105, t0 + 2s);
  CHECK(r.spawned == std::vector<int>{1, 2});
  CHECK(r.spawned_as_replacement.back());
  CHECK(m.accepting() == 1);  // the old one serves until the new one is ready
  m.ready(2, t0 + 3s);
  CHECK(m.accepting() == 2);
  CHECK(r.drained == std::vector<int>{1});
  CHECK(r.handed_back == std::vector<bool>{true});  // its successor serves: idle sockets go back
  CHECK(r.replacements == std::vector<bool>{true});
  m.exited(1, ExitStatus{0, 0, false}, t0 + 4s);  // planned: no restart
  CHECK_FALSE(r.saw("backoff"));
  CHECK(m.state() == SlotState::ready);
}

TEST_CASE("a draining worker that overstays drain_timeout is killed") {
  Recorder r;
  SlotMachine m(policy(), r);
  m.start(t0);
  m.ready(1, t0);
  REQUIRE(m.replace("reload", t0) == SlotMachine::Replace::started);
  m.ready(2, t0 + 1s);
  CHECK(*m.next_deadline() == t0 + 11s);
  m.tick(t0 + 11s);
  CHECK(r.killed == std::vector<int>{1});
}

TEST_CASE("a replacement that fails leaves the old worker serving") {
  Recorder r;
  SlotMachine m(policy(), r);
  m.start(t0);
  m.ready(1, t0);
  REQUIRE(m.replace("reload", t0) == SlotMachine::Replace::started);
  m.exited(2, crash, t0 + 1s);
  CHECK(r.replacements == std::vector<bool>{false});
  CHECK(m.accepting() == 1);
  CHECK(r.drained.empty());
  CHECK_FALSE(r.saw("backoff"));
  // Not ready: nothing to replace now.
  Recorder r2;
  SlotMachine starting(policy(), r2);
  starting.start(t0);
  CHECK(starting.replace("reload", t0) == SlotMachine::Replace::not_ready);
}

TEST_CASE("max_rss replaces a worker once") {
  Recorder r;
  auto pol = policy();
  pol.max_rss = 1000;
  SlotMachine m(pol, r);
  m.start(t0);
  m.ready(1, t0);
  m.rss(1, 900, t0);
  CHECK(r.spawned.size() == 1);
  m.rss(1, 2000, t0);
  m.rss(1, 2000, t0);
  CHECK(r.spawned == std::vector<int>{1, 2});
}

TEST_CASE("stop drains everything and reports stopped when the last worker is gone") {
  Recorder r;
  SlotMachine m(policy(), r);
  m.start(t0);
  m.ready(1, t0);
  m.stop(t0, 2s);
  CHECK(r.drained == std::vector<int>{1});
  CHECK(r.handed_back == std::vector<bool>{false});  // nobody is left to take them
  CHECK(m.state() == SlotState::stopping);
  CHECK(*m.next_deadline() == t0 + 2s);
  m.tick(t0 + 2s);
  CHECK(r.killed == std::vector<int>{1});
  m.exited(1, ExitStatus{0, 9, false}, t0 + 2s);
  CHECK(m.state() == SlotState::stopped);
  CHECK(r.events.back() == "stopped");
  CHECK_FALSE(r.saw("backoff"));
}

TEST_CASE("during drain() the retiring worker is still known: an SDK worker gets `drain`, not SIGTERM") {
  // The replaced worker left `current` before its drain: the effect must still find it
  // among the draining, or speaks_sdk says no and a reload SIGTERMs SDK workers.
  Recorder r;
  SlotMachine m(policy(), r);
  r.machine = &m;
  m.start(t0);
  m.hello(1);
  m.ready(1, t0);
  REQUIRE(m.replace("reload", t0) == SlotMachine::Replace::started);
  m.hello(2);
  m.ready(2, t0 + 1s);
  m.stop(t0 + 2s, 5s);
  CHECK(r.drained == std::vector<int>{1, 2});
  CHECK(r.drained_sdk == std::vector<bool>{true, true});
}

TEST_CASE("a scale-down stop lets the workers hand idle connections back; a replacement's drain always does") {
  Recorder r;
  SlotMachine m(policy(), r);
  m.start(t0);
  m.ready(1, t0);
  REQUIRE(m.replace("reload", t0) == SlotMachine::Replace::started);
  m.ready(2, t0 + 1s);
  m.stop(t0 + 2s, 5s, /*hand_back=*/true);
  CHECK(r.drained == std::vector<int>{1, 2});
  CHECK(r.handed_back == std::vector<bool>{true, true});
}

TEST_CASE("a slot waiting to restart stops at once; a spawn failure backs off like a crash") {
  Recorder r;
  r.fail_spawn = true;
  SlotMachine m(policy(), r);
  m.start(t0);
  CHECK(r.saw("spawn_failed"));
  CHECK(m.state() == SlotState::backoff);
  m.stop(t0, 1s);
  CHECK(m.state() == SlotState::stopped);
  CHECK_FALSE(m.next_deadline().has_value());
}

TEST_CASE("the current worker dying while its replacement starts hands over to the replacement") {
  Recorder r;
  SlotMachine m(policy(), r);
  m.start(t0);
  m.ready(1, t0);
  REQUIRE(m.replace("max_rss", t0) == SlotMachine::Replace::started);
  m.exited(1, crash, t0 + 1s);
  CHECK_FALSE(r.saw("backoff"));
  CHECK(m.state() == SlotState::starting);
  m.ready(2, t0 + 2s);
  CHECK(m.accepting() == 2);
}

TEST_CASE("a worker that misbehaves is killed once with its reason, and restarts as after a crash") {
  Recorder r;
  SlotMachine m(policy(), r);
  m.start(t0);
  m.ready(1, t0);
  m.misbehaved(1, "protocol: 2 descriptors in one message");
  m.misbehaved(1, "hung: no ACK within ack_timeout");  // already being killed: not again
  CHECK(r.killed == std::vector<int>{1});
  REQUIRE(r.saw("kill"));
  CHECK(r.event_fields.back().at("reason") == "protocol: 2 descriptors in one message");
  CHECK(m.accepting() == 1);  // until its exit is seen
  m.exited(1, ExitStatus{0, 9, false}, t0 + 1s);
  CHECK(m.state() == SlotState::backoff);
  m.tick(*m.next_deadline());
  CHECK(r.spawned == std::vector<int>{1, 2});
}

TEST_CASE("a misbehaving replacement or draining worker is killed too; an unknown generation is ignored") {
  Recorder r;
  SlotMachine m(policy(), r);
  m.start(t0);
  m.ready(1, t0);
  REQUIRE(m.replace("reload", t0) == SlotMachine::Replace::started);
  m.misbehaved(2, "protocol: a listening socket");
  CHECK(r.killed == std::vector<int>{2});
  m.exited(2, ExitStatus{0, 9, false}, t0 + 1s);
  CHECK(r.replacements == std::vector<bool>{false});
  CHECK(m.accepting() == 1);
  m.misbehaved(7, "nobody");
  CHECK(r.killed == std::vector<int>{2});
}

TEST_CASE("a worker that never says hello is asked about before its start_timeout kill, and the hint says what it found") {
  Recorder r;
  r.worker_facts.listening = {"[::]:3000"};
  SlotMachine m(policy(), r);
  m.start(t0);
  m.tick(t0 + 5s);
  m.tick(t0 + 5s + 1ms);  // a second tick before the exit asks nothing again
  CHECK(r.timeline == std::vector<std::string>{"facts 1", "kill 1"});
  m.exited(1, ExitStatus{0, 9, false}, t0 + 5s + 2ms);
  const auto failure = r.last("start_failure");
  CHECK(failure.at("reason") == "no ready within start_timeout");
  CHECK(failure.at("hint") ==
        "it never said hello, and it listens on [::]:3000 itself; hand the server to serve() from handoff-worker "
        "instead of calling listen(): the master owns the ports");
  CHECK(r.timeline.size() == 2);  // the facts from before the kill, not asked again at the exit
}

TEST_CASE("an exit before hello gets a hint from its output, or the one about serve() and npm") {
  Recorder r;
  r.worker_facts.address_in_use = "Error: listen EADDRINUSE: address already in use :::8080";
  SlotMachine m(policy(), r);
  m.start(t0);
  m.exited(1, crash, t0 + 10ms);
  CHECK(r.last("start_failure").at("hint") ==
        "its output says the address is in use (\"Error: listen EADDRINUSE: address already in use :::8080\"): it "
        "listens on a port itself, one the master or another slot holds; hand the server to serve() from "
        "handoff-worker instead of calling listen(): the master owns the ports");
  r.worker_facts = {};
  m.tick(*m.next_deadline());
  m.exited(2, ExitStatus{0, 0, false}, *m.next_deadline());
  const auto hint = r.last("start_failure").at("hint");
  CHECK(hint.starts_with("it never said hello: a Node app must call serve() from handoff-worker"));
  CHECK(hint.find("`ready: on_spawn`") != std::string::npos);
  CHECK(hint.find("npm") != std::string::npos);
}

TEST_CASE("a worker that said hello gets no hint of the kind, unless its output said EADDRINUSE") {
  Recorder r;
  SlotMachine m(policy(), r);
  m.start(t0);
  m.hello(1);
  m.tick(t0 + 5s);
  CHECK(r.timeline == std::vector<std::string>{"kill 1"});
  m.exited(1, ExitStatus{0, 9, false}, t0 + 5s);
  CHECK_FALSE(r.last("start_failure").contains("hint"));
  m.tick(*m.next_deadline());
  m.hello(2);
  r.worker_facts.address_in_use = "Error: listen EADDRINUSE";
  m.exited(2, crash, *m.next_deadline() - 1s);
  CHECK(r.last("start_failure").at("hint") ==
        "its output says the address is in use (\"Error: listen EADDRINUSE\"): it calls serve() and also listens on a "
        "port itself, one the master or another slot holds; remove its listen() call: under the supervisor serve() is "
        "all it needs");
}

TEST_CASE("a crash after ready gets a hint only when its output said EADDRINUSE") {
  Recorder r;
  SlotMachine m(policy(), r);
  m.start(t0);
  m.ready(1, t0);  // as `ready: on_spawn` does: never a hello, and no fault in that
  m.exited(1, crash, t0 + 1s);
  CHECK_FALSE(r.last("exit").contains("hint"));
  m.tick(*m.next_deadline());
  m.ready(2, *m.next_deadline());
  r.worker_facts.address_in_use = "OSError: [Errno 98] Address already in use";
  m.exited(2, crash, t0 + 20s);
  CHECK(r.last("exit").at("hint").starts_with("its output says the address is in use"));
}

TEST_CASE("a slot that has never had a ready worker turns connections away once its start failed") {
  Recorder r;
  SlotMachine m(policy(), r);
  m.start(t0);
  CHECK_FALSE(m.failing_to_start());  // the first start may yet succeed: connections wait for it
  m.exited(1, crash, t0 + 10ms);
  CHECK(m.failing_to_start());
  m.tick(*m.next_deadline());
  CHECK(m.failing_to_start());  // retrying does not change what is known
  m.ready(2, *m.next_deadline());
  CHECK_FALSE(m.failing_to_start());
  // Once it has served, a failed restart is a crash like any other: connections wait.
  m.exited(2, crash, t0 + 20s);
  m.tick(*m.next_deadline());
  m.exited(3, crash, *m.next_deadline());
  CHECK_FALSE(m.failing_to_start());

  Recorder cannot_spawn;
  cannot_spawn.fail_spawn = true;
  SlotMachine n(policy(), cannot_spawn);
  n.start(t0);
  CHECK(n.failing_to_start());
  n.stop(t0, 1s);
  CHECK_FALSE(n.failing_to_start());
}

TEST_CASE("failure hints: which output lines say EADDRINUSE") {
  CHECK(mentions_address_in_use("Error: listen EADDRINUSE: address already in use :::3000"));
  CHECK(mentions_address_in_use("OSError: [Errno 98] Address already in use"));
  CHECK(mentions_address_in_use("listen tcp :8080: bind: address already in use"));
  CHECK_FALSE(mentions_address_in_use("GET /address 200"));
  CHECK(failure_hint(true, {}).empty());
  CHECK(failure_hint(true, {{"127.0.0.1:3000", "[::]:3001"}, ""}) ==
        "it listens on 127.0.0.1:3000, [::]:3001 itself; hand the server to serve() from handoff-worker instead of "
        "calling listen(): the master owns the ports");
  // A long line is quoted short: the whole of it is in the log just above.
  const auto hint = failure_hint(false, {{}, "EADDRINUSE " + std::string(1000, 'x')});
  CHECK(hint.size() < 500);
}
