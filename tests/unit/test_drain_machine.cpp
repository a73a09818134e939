// DrainMachine: how a worker stops, with no loop and no sockets. The scenarios of
// tests/fixtures/drain-scenarios.json run here and in tests/node/drain-machine.test.js:
// both SDKs drain alike.
#include "worker-sdk/cpp/src/drain_machine.h"

#include <nlohmann/json.hpp>

#include <doctest/doctest.h>

#include <fstream>
#include <string>
#include <vector>

using namespace handoff;

namespace {

const nlohmann::json& fixture() {
  static const nlohmann::json j = [] {
    std::ifstream in(std::string(HANDOFF_SOURCE_DIR) + "/tests/fixtures/drain-scenarios.json");
    REQUIRE(in.good());
    return nlohmann::json::parse(in);
  }();
  return j;
}

// "finish 2", "arm_timer 9910", "exit": the fixture's spelling.
std::vector<std::string> spelled(const DrainEffects& effects) {
  std::vector<std::string> out;
  for (const auto& e : effects) {
    std::string text(to_string(e.kind));
    switch (e.kind) {
      case DrainEffect::Kind::finish:
      case DrainEffect::Kind::hand_back:
      case DrainEffect::Kind::close: text += " " + std::to_string(e.id); break;
      case DrainEffect::Kind::arm_timer: text += " " + std::to_string(e.at); break;
      default: break;
    }
    out.push_back(std::move(text));
  }
  return out;
}

DrainEffects step(DrainMachine& m, const nlohmann::json& s) {
  const std::int64_t now = s.at("at").get<std::int64_t>();
  const std::string event = s.at("event").get<std::string>();
  const auto id = [&] { return s.at("id").get<std::uint64_t>(); };
  if (event == "drain") return m.drain(now, s.at("timeout_ms").get<std::int64_t>(), s.at("handback").get<bool>());
  if (event == "signal") return m.signal(now);
  if (event == "channel_lost") return m.channel_lost(now);
  if (event == "opened") return m.opened(now, id(), s.at("movable").get<bool>());
  if (event == "busy") return m.busy(now, id());
  if (event == "idle") return m.idle(now, id());
  if (event == "detached") return m.detached(now, id());
  if (event == "closed") return m.closed(now, id());
  if (event == "tick") return m.tick(now);
  FAIL("unknown event " << event);
  return {};
}

}  // namespace

TEST_CASE("drain: the fixture's numbers are the machine's (protocols/drain_rules.h), which the master sends") {
  const auto& rules = fixture().at("rules");
  const DrainRules ours;
  CHECK(rules.at("deadline_margin_ms").get<std::int64_t>() == ours.deadline_margin_ms);
  CHECK(rules.at("deadline_margin_divisor").get<std::int64_t>() == ours.deadline_margin_divisor);
  CHECK(rules.at("idle_grace_ms").get<std::int64_t>() == ours.idle_grace_ms);
}

TEST_CASE("drain: every scenario of tests/fixtures/drain-scenarios.json") {
  const auto& scenarios = fixture().at("scenarios");
  REQUIRE(scenarios.size() >= 10);
  for (const auto& scenario : scenarios) {
    const std::string name = scenario.at("name").get<std::string>();
    CAPTURE(name);
    std::optional<std::int64_t> grace;
    if (!scenario.at("own_grace_ms").is_null()) grace = scenario.at("own_grace_ms").get<std::int64_t>();
    DrainMachine machine(grace);
    int index = 0;
    for (const auto& s : scenario.at("steps")) {
      CAPTURE(index);
      CHECK(spelled(step(machine, s)) == s.at("effects").get<std::vector<std::string>>());
      ++index;
    }
  }
}

TEST_CASE("drain: the deadline leaves a margin before the master's kill") {
  DrainMachine m(5000);
  CHECK(m.deadline_ms(30000) == 29900);  // capped at 100 ms
  CHECK(m.deadline_ms(500) == 450);      // a tenth of a short one
  CHECK(m.deadline_ms(9) == 9);          // a tenth rounds down to nothing
  CHECK(m.deadline_ms(1) == 1);
  CHECK(m.deadline_ms(0) == 5000);  // none from the master: the program's own, whole
  CHECK(DrainMachine(std::nullopt).deadline_ms(0) == std::nullopt);
}

TEST_CASE("drain: phases, and what a stopped machine still answers") {
  DrainMachine m(1000);
  CHECK(m.phase() == DrainMachine::Phase::serving);
  CHECK(m.opened(0, 7, true).empty());
  CHECK(m.idle(0, 7).empty());
  CHECK(m.next_wakeup() == std::nullopt);  // serving: no clock runs
  const auto effects = m.drain(10, 0, true);
  CHECK(m.draining());
  CHECK(m.hands_back());
  CHECK(spelled(effects) == std::vector<std::string>{"stop_accepting", "hand_back 7", "arm_timer 1010"});
  CHECK(m.connections() == 1);  // until the master's ACK
  CHECK(m.busy(11, 7).empty());  // leaving: what it does no longer matters
  CHECK(spelled(m.closed(12, 7)) == std::vector<std::string>{"stopped"});
  CHECK(m.phase() == DrainMachine::Phase::stopped);
  CHECK(m.tick(2000).empty());
  CHECK(m.signal(2001).empty());
  CHECK(m.closed(2002, 7).empty());
}

TEST_CASE("drain: events about unknown connections change nothing") {
  DrainMachine m(1000);
  (void)m.drain(0, 0, false);  // nothing open: stopped at once
  DrainMachine n(1000);
  (void)n.opened(0, 1, true);
  (void)n.drain(0, 0, false);
  CHECK(n.busy(1, 99).empty());
  CHECK(n.idle(1, 99).empty());
  CHECK(n.detached(1, 99).empty());
  CHECK(n.closed(1, 99).empty());
  CHECK(n.connections() == 1);
}
