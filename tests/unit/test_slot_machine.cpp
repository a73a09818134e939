#include <doctest/doctest.h>

#include <algorithm>
#include <map>
#include <string>
#include <variant>
#include <vector>

#include "supervisor/core/slot_machine.h"

using namespace handoff;
using namespace std::chrono_literals;
using namespace handoff::slot_event;

namespace {

// Records what the machine asks for; stands in for processes in these tests only.
struct Recorder final : SlotEffects {
  std::vector<int> spawned;
  std::vector<bool> spawned_as_replacement;
  std::vector<int> drained, killed;
  std::vector<bool> handed_back;  // the `hand_back` of each drain, in order
  const SlotMachine* machine = nullptr;  // when set: what the machine says during drain()
  std::vector<bool> drained_sdk;
  std::vector<SlotEvent> events;
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
  void event(const SlotEvent& e) override { events.push_back(e); }
  void replacement_done(bool ok) override { replacements.push_back(ok); }
  double random() override { return jitter; }

  std::vector<std::int64_t> backoff_delays() const {
    std::vector<std::int64_t> out;
    for (const auto& e : events)
      if (const auto* b = std::get_if<Backoff>(&e)) out.push_back(b->delay.count());
    return out;
  }
  template <class Event>
  bool saw() const {
    return std::any_of(events.begin(), events.end(), [](const SlotEvent& e) { return std::holds_alternative<Event>(e); });
  }
  // The last event of that type.
  template <class Event>
  Event last() const {
    for (std::size_t i = events.size(); i-- > 0;)
      if (const auto* e = std::get_if<Event>(&events[i])) return *e;
    FAIL("no event " << text_of(Event{}).name);
    return {};
  }
  // The event `back` places before the last (0: the last).
  template <class Event>
  Event from_end(std::size_t back) const {
    REQUIRE(events.size() > back);
    const auto* e = std::get_if<Event>(&events[events.size() - 1 - back]);
    REQUIRE(e != nullptr);
    return *e;
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
  CHECK(r.saw<CrashLoop>());
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
  CHECK(std::holds_alternative<StartFailed>(r.events.at(r.events.size() - 2)));
  CHECK(m.state() == SlotState::backoff);
  m.tick(*m.next_deadline());
  REQUIRE(r.spawned.size() == 2);
  CHECK(*m.next_deadline() == t0 + 10ms + std::chrono::milliseconds(r.backoff_delays()[0]) + 5s);
  m.tick(*m.next_deadline());
  CHECK(r.killed == std::vector<int>{2});
  m.exited(2, ExitStatus{0, 9, false}, *m.next_deadline() + 1ms);
  const auto failure = r.from_end<StartFailed>(1);
  REQUIRE(failure.kill.has_value());
  CHECK(failure.kill->reason == KillReason::start_timeout);
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
  CHECK_FALSE(r.saw<Backoff>());
  CHECK(m.state() == SlotState::ready);
}

TEST_CASE("a draining worker that overstays drain_timeout is killed") {
  Recorder r;
  SlotMachine m(policy(), r);
  m.start(t0);
  m.ready(1, t0);
  REQUIRE(m.replace(RestartReason::reload, t0) == SlotMachine::Replace::started);
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
  REQUIRE(m.replace(RestartReason::reload, t0) == SlotMachine::Replace::started);
  m.exited(2, crash, t0 + 1s);
  CHECK(r.replacements == std::vector<bool>{false});
  CHECK(m.accepting() == 1);
  CHECK(r.drained.empty());
  CHECK_FALSE(r.saw<Backoff>());
  // Not ready: nothing to replace now.
  Recorder r2;
  SlotMachine starting(policy(), r2);
  starting.start(t0);
  CHECK(starting.replace(RestartReason::reload, t0) == SlotMachine::Replace::not_ready);
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
  CHECK(std::holds_alternative<Stopped>(r.events.back()));
  CHECK_FALSE(r.saw<Backoff>());
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
  REQUIRE(m.replace(RestartReason::reload, t0) == SlotMachine::Replace::started);
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
  REQUIRE(m.replace(RestartReason::reload, t0) == SlotMachine::Replace::started);
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
  CHECK(r.saw<SpawnFailed>());
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
  REQUIRE(m.replace(RestartReason::max_rss, t0) == SlotMachine::Replace::started);
  m.exited(1, crash, t0 + 1s);
  CHECK_FALSE(r.saw<Backoff>());
  CHECK(m.state() == SlotState::starting);
  CHECK(r.replacements.empty());
  m.ready(2, t0 + 2s);
  CHECK(m.accepting() == 2);
  // The replacement's end is still reported (a rolling reload waits for it).
  CHECK(r.replacements == std::vector<bool>{true});

  // And when it then fails to start, that is reported too.
  Recorder f;
  SlotMachine n(policy(), f);
  n.start(t0);
  n.ready(1, t0);
  REQUIRE(n.replace(RestartReason::reload, t0) == SlotMachine::Replace::started);
  n.exited(1, crash, t0 + 1s);
  n.exited(2, crash, t0 + 2s);
  CHECK(f.replacements == std::vector<bool>{false});
  CHECK(n.state() == SlotState::backoff);
}

TEST_CASE("a worker that misbehaves is killed once with its reason, and restarts as after a crash") {
  Recorder r;
  SlotMachine m(policy(), r);
  m.start(t0);
  m.ready(1, t0);
  m.misbehaved(1, KillReason::protocol, "2 descriptors in one message");
  m.misbehaved(1, KillReason::ack_timeout);  // already being killed: not again
  CHECK(r.killed == std::vector<int>{1});
  REQUIRE(r.saw<Killed>());
  const auto killed = r.from_end<Killed>(0);
  CHECK(killed.kill.reason == KillReason::protocol);
  CHECK(killed.kill.detail == "2 descriptors in one message");
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
  REQUIRE(m.replace(RestartReason::reload, t0) == SlotMachine::Replace::started);
  m.misbehaved(2, KillReason::protocol, "a listening socket");
  CHECK(r.killed == std::vector<int>{2});
  m.exited(2, ExitStatus{0, 9, false}, t0 + 1s);
  CHECK(r.replacements == std::vector<bool>{false});
  CHECK(m.accepting() == 1);
  m.misbehaved(7, KillReason::protocol, "nobody");
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
  const auto failure = r.last<StartFailed>();
  REQUIRE(failure.kill.has_value());
  CHECK(failure.kill->reason == KillReason::start_timeout);
  CHECK(failure.hint ==
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
  CHECK(r.last<StartFailed>().hint ==
        "its output says the address is in use (\"Error: listen EADDRINUSE: address already in use :::8080\"): it "
        "listens on a port itself, one the master or another slot holds; hand the server to serve() from "
        "handoff-worker instead of calling listen(): the master owns the ports");
  r.worker_facts = {};
  m.tick(*m.next_deadline());
  m.exited(2, ExitStatus{0, 0, false}, *m.next_deadline());
  const auto hint = r.last<StartFailed>().hint;
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
  CHECK(r.last<StartFailed>().hint.empty());
  m.tick(*m.next_deadline());
  m.hello(2);
  r.worker_facts.address_in_use = "Error: listen EADDRINUSE";
  m.exited(2, crash, *m.next_deadline() - 1s);
  CHECK(r.last<StartFailed>().hint ==
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
  CHECK(r.last<Exited>().hint.empty());
  m.tick(*m.next_deadline());
  m.ready(2, *m.next_deadline());
  r.worker_facts.address_in_use = "OSError: [Errno 98] Address already in use";
  m.exited(2, crash, t0 + 20s);
  CHECK(r.last<Exited>().hint.starts_with("its output says the address is in use"));
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

namespace {

// An event's log line as "name k=v k=v" (the generation first, as the log has it).
std::string line(const SlotEvent& e) {
  const EventText t = text_of(e);
  std::string out(t.name);
  if (t.generation) out += " generation=" + std::to_string(*t.generation);
  for (const auto& [k, v] : t.fields) out += " " + std::string(k) + "=" + v.text();
  return out;
}

}  // namespace

TEST_CASE("each event's log line: the names and fields the tests and operators read") {
  const ExitStatus killed{0, 9, false};
  CHECK(line(Spawned{1, "node"}) == "spawn generation=1 command=node");
  CHECK(line(SpawnFailed{2, "no such file"}) == "spawn_failed generation=2 error=no such file");
  CHECK(line(Ready{1, 42ms}) == "ready generation=1 startup_ms=42");
  CHECK(line(Replaced{2}) == "replaced generation=2");
  CHECK(line(Recycling{1, RestartReason::max_requests}) == "recycle generation=1 reason=max_requests");
  CHECK(line(Draining{1, 1500ms, true}) == "drain generation=1 timeout=1500ms handback=true");
  CHECK(line(Killed{1, {KillReason::protocol, "2 descriptors in one message"}}) ==
        "kill generation=1 reason=protocol: 2 descriptors in one message");
  CHECK(line(Exited::unplanned(1, crash, 1200ms)) == "exit generation=1 status=exit code 1 uptime_ms=1200");
  CHECK(line(Exited::unplanned(1, crash, 5ms, "h")) ==
        "exit generation=1 status=exit code 1 uptime_ms=5 hint=h");
  CHECK(line(Exited::retired(1, killed)) ==
        "exit generation=1 status=killed by signal 9 planned=true");
  CHECK(line(StartFailed{3, crash, std::nullopt, ""}) == "start_failure generation=3 status=exit code 1 reason=exited before ready");
  CHECK(line(StartFailed{3, killed, Kill{KillReason::start_timeout, {}}, "h"}) ==
        "start_failure generation=3 status=killed by signal 9 reason=no ready within start_timeout hint=h");
  CHECK(line(CrashLoop{5, 60s, "exit code 1"}) == "crash_loop exits=5 window=1m last_exit=exit code 1");
  CHECK(line(Backoff{100ms, 2, false}) == "backoff delay_ms=100 crashes_in_a_row=2 state=backoff");
  CHECK(line(Backoff{2000ms, 6, true}) == "backoff delay_ms=2000 crashes_in_a_row=6 state=crash_loop");
  CHECK(line(Restarting{4}) == "restart generation=4");
  CHECK(line(Stopped{}) == "stopped");
  CHECK(describe(ExitStatus{0, 9, true}) == "killed: out of memory");
}

TEST_CASE("kill reasons: their text in the log, and the restart each one counts as") {
  const std::vector<std::pair<Kill, std::string>> texts{
      {{KillReason::start_timeout, {}}, "no ready within start_timeout"},
      {{KillReason::heartbeat_timeout, {}}, "hung: no heartbeat within heartbeat.timeout"},
      {{KillReason::ack_timeout, {}}, "hung: no ACK within ack_timeout"},
      {{KillReason::protocol, "a listening socket"}, "protocol: a listening socket"},
      {{KillReason::channel_closed, {}}, "channel closed"},
      {{KillReason::drain_timeout, {}}, "drain timeout"},
      {{KillReason::stop_now, {}}, "stop now"},
  };
  for (const auto& [kill, text] : texts) CHECK(describe(kill) == text);
  CHECK(restart_reason(KillReason::start_timeout) == RestartReason::start_timeout);
  CHECK(restart_reason(KillReason::heartbeat_timeout) == RestartReason::hung);
  CHECK(restart_reason(KillReason::ack_timeout) == RestartReason::hung);
  CHECK(restart_reason(KillReason::protocol) == RestartReason::protocol);
  CHECK_FALSE(restart_reason(KillReason::channel_closed).has_value());  // the exit after it counts as a crash
  CHECK_FALSE(restart_reason(KillReason::drain_timeout).has_value());
  CHECK_FALSE(restart_reason(KillReason::stop_now).has_value());
}

TEST_CASE("the backoff event's state is the state the machine is in") {
  Recorder r;
  r.jitter = 0.0;
  SlotMachine m(policy(), r);
  TimePoint now = t0;
  m.start(now);
  for (int i = 0; i < 5; ++i) {
    m.exited(r.spawned.back(), crash, now);
    CHECK(r.last<Backoff>().crash_loop == (m.state() == SlotState::crash_loop));
    CHECK((m.state() == SlotState::backoff || m.state() == SlotState::crash_loop));
    now = *m.next_deadline();
    m.tick(now);
    CHECK(m.state() == SlotState::starting);
  }
  CHECK(r.last<Backoff>().crash_loop);
}
