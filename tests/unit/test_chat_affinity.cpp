// The chat example's affinity plugin (examples/chat/plugin), loaded by the supervisor's
// real `plugin` rule: it must agree with the built-in url_segment rule on every unpinned
// room, honour its pins, refuse what is not a chat path, and refuse bad config strings.
// The broken plugins of tests/plugins must not load.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "supervisor/core/routing/dispatch_policy.h"
#include "supervisor/edge/shared_library.h"

using namespace handoff;

namespace {
const std::string kLib = HANDOFF_PLUGIN_DIR;

RuleConfig chat_rule(std::string config = "") {
  RuleConfig r;
  r.name = "plugin";
  r.plugin_path = kLib + "/libchat_affinity" + HANDOFF_PLUGIN_SUFFIX;
  r.plugin_config = std::move(config);
  return r;
}

Decision pick(DispatchPolicy& policy, std::string_view path, std::size_t slots) {
  RequestHead head;
  head.method = "GET";
  head.target = path;
  head.path = path;
  const std::vector<SlotView> views(slots, SlotView{true});
  return policy.pick(RouteInput{{}, &head}, views);
}

std::unique_ptr<DispatchPolicy> load(const RuleConfig& rule) {
  std::string error;
  auto policy = make_policy(rule, open_shared_library, error);
  INFO(error);
  REQUIRE(policy);
  return policy;
}

std::string load_error(const RuleConfig& rule) {
  std::string error;
  CHECK_FALSE(make_policy(rule, open_shared_library, error));
  return error;
}
}  // namespace

TEST_CASE("chat plugin: unpinned rooms go where url_segment {index: 2} sends them") {
  auto plugin = load(chat_rule("lobby=1"));
  RuleConfig segment;
  segment.name = "url_segment";
  segment.index = 2;
  auto builtin = load(segment);
  std::vector<int> per_slot(9);
  for (std::size_t slots = 1; slots <= 9; ++slots)
    for (int i = 0; i < 500; ++i) {
      const std::string path = "/chat/room-" + std::to_string(i);
      const Decision expected = pick(*builtin, path, slots);
      REQUIRE(expected.kind == Decision::Kind::slot);
      const Decision got = pick(*plugin, path, slots);
      REQUIRE(got.kind == Decision::Kind::slot);
      CHECK(got.slot == expected.slot);
      CHECK(pick(*plugin, path + "/info", slots).slot == expected.slot);
      if (slots == 9) ++per_slot[got.slot];
    }
  for (int n : per_slot) CHECK(n > 20);  // 500 rooms spread over all 9 slots
}

TEST_CASE("chat plugin: pinned rooms go to their slot while it exists, then to the hash") {
  auto plugin = load(chat_rule(" lobby = 3 ,vip=2"));
  RuleConfig segment;
  segment.name = "url_segment";
  segment.index = 2;
  auto builtin = load(segment);
  CHECK(pick(*plugin, "/chat/lobby", 4).slot == 2);
  CHECK(pick(*plugin, "/chat/lobby/info", 3).slot == 2);
  CHECK(pick(*plugin, "/chat/vip", 4).slot == 1);
  CHECK(pick(*plugin, "/chat/vip", 2).slot == 1);
  // Slot 3 does not exist among 2: lobby is hashed like any room.
  CHECK(pick(*plugin, "/chat/lobby", 2).slot == pick(*builtin, "/chat/lobby", 2).slot);
  CHECK(pick(*plugin, "/chat/lobby", 1).slot == 0);
  // Names match exactly: another case or a longer name is another room.
  CHECK(pick(*plugin, "/chat/Lobby", 4).slot == pick(*builtin, "/chat/Lobby", 4).slot);
  CHECK(pick(*plugin, "/chat/lobby2", 4).slot == pick(*builtin, "/chat/lobby2", 4).slot);
}

TEST_CASE("chat plugin: what is not /chat/<room> gets 404") {
  auto plugin = load(chat_rule());
  for (const char* path : {"/", "/chat", "/chat/", "/chat//x", "/chats/a", "/other/a", "chat/a", ""}) {
    INFO(path);
    const Decision d = pick(*plugin, path, 4);
    CHECK(d.kind == Decision::Kind::reject);
    CHECK(d.status == 404);
  }
}

TEST_CASE("chat plugin: a bad config string is refused with its reason") {
  struct Case {
    const char* config;
    const char* reason;
  };
  for (const auto& c : std::vector<Case>{
           {"lobby", "pin \"lobby\": expected ROOM=SLOT"},
           {"lobby=1,", "pin \"\": expected ROOM=SLOT"},
           {"=1", "the room name is empty"},
           {"lobby=0", "the slot must be a number from 1 to 4096"},
           {"lobby=4097", "the slot must be a number from 1 to 4096"},
           {"lobby=99999999999999999999999", "the slot must be a number from 1 to 4096"},
           {"lobby=x", "the slot must be a number from 1 to 4096"},
           {"lobby=-1", "the slot must be a number from 1 to 4096"},
           {"lob/by=1", "the room name may only have printable ASCII"},
           {"lobby=1,lobby=2", "pin \"lobby=2\": this room is pinned twice"},
           {"a234567890123456789012345678901234567890123456789012345678901234=1", "longer than 63 bytes"},
       }) {
    INFO(c.config);
    const std::string error = load_error(chat_rule(c.config));
    CHECK(error.find("refused its config") != std::string::npos);
    CHECK(error.find(c.reason) != std::string::npos);
  }
  std::string many;
  for (int i = 0; i < 65; ++i) many += (i ? ",r" : "r") + std::to_string(i) + "=1";
  CHECK(load_error(chat_rule(many)).find("more than 64 pinned rooms") != std::string::npos);
  CHECK(load(chat_rule("   ")));  // blank: no pins
}

TEST_CASE("broken plugins do not load, and the error says why") {
  RuleConfig r = chat_rule();
  r.plugin_path = kLib + "/test-plugins/libmissing_pick" + HANDOFF_PLUGIN_SUFFIX;
  std::string error = load_error(r);
  CHECK(error.find(r.plugin_path) != std::string::npos);
  CHECK(error.find("does not export handoff_affinity_pick") != std::string::npos);
  r.plugin_path = kLib + "/test-plugins/libfuture_abi" + HANDOFF_PLUGIN_SUFFIX;
  error = load_error(r);
  CHECK(error.find(r.plugin_path) != std::string::npos);
  CHECK(error.find("has ABI version 2") != std::string::npos);
}
