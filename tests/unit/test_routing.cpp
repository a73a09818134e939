#include <doctest/doctest.h>

#include <array>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "protocols/consistent_hash.h"
#include "supervisor/core/routing/dispatch_policy.h"
#include "supervisor/core/routing/port_apps.h"
#include "supervisor/core/routing/prefix_table.h"
#include "supervisor/edge/shared_library.h"
#include "protocols/route_key.h"

using namespace handoff;

namespace {
std::array<std::byte, 4> ipv4(unsigned a, unsigned b, unsigned c, unsigned d) {
  return {std::byte(a), std::byte(b), std::byte(c), std::byte(d)};
}
std::vector<SlotView> all_ready(std::size_t n) { return std::vector<SlotView>(n, SlotView{true}); }
std::size_t slot_of(const Decision& d) {
  REQUIRE(d.kind == Decision::Kind::slot);
  return d.slot;
}
}  // namespace

TEST_CASE("jump hash stays in range and moves about 1/(N+1) of keys when growing") {
  constexpr int kKeys = 20000;
  for (std::uint32_t n = 1; n < 12; ++n) {
    int moved = 0;
    for (std::uint64_t k = 0; k < kKeys; ++k) {
      const auto before = jump_hash(k * 0x9E3779B97F4A7C15ULL, n);
      const auto after = jump_hash(k * 0x9E3779B97F4A7C15ULL, n + 1);
      REQUIRE(before < n);
      REQUIRE(after < n + 1);
      if (before != after) {
        ++moved;
        CHECK(after == n);  // a key only ever moves to the new bucket
      }
    }
    const double expected = kKeys / static_cast<double>(n + 1);
    CHECK(moved > expected * 0.9);
    CHECK(moved < expected * 1.1);
  }
}

TEST_CASE("registry knows round_robin and ip_hash and nothing by another name") {
  CHECK(find_policy("round_robin") != nullptr);
  CHECK(find_policy("ip_hash") != nullptr);
  CHECK(find_policy("random") == nullptr);
}

TEST_CASE("every request key (route_key.h) is a rule of the registry, named by its key") {
  for (const auto& [name, source] : kKeySourceNames) {
    const PolicyEntry* entry = find_policy(name);
    REQUIRE_MESSAGE(entry != nullptr, name);
    CHECK(entry->key == source);
  }
  for (const auto& entry : policy_registry())
    CHECK_MESSAGE(entry.key == key_source_named(entry.name), entry.name);
}

TEST_CASE("round_robin cycles over ready slots and skips the others") {
  std::string error;
  auto policy = make_policy(RuleConfig{}, LibraryLoader{}, error);
  auto slots = all_ready(4);
  auto address = ipv4(127, 0, 0, 1);
  RouteInput input{address};
  std::vector<std::size_t> picks;
  for (int i = 0; i < 8; ++i) picks.push_back(slot_of(policy->pick(input, slots)));
  CHECK(picks == std::vector<std::size_t>{0, 1, 2, 3, 0, 1, 2, 3});
  slots[1].ready = false;
  slots[2].ready = false;
  picks.clear();
  for (int i = 0; i < 4; ++i) picks.push_back(slot_of(policy->pick(input, slots)));
  CHECK(picks == std::vector<std::size_t>{0, 3, 0, 3});
  for (auto& s : slots) s.ready = false;
  CHECK(policy->pick(input, slots).kind == Decision::Kind::any);
}

TEST_CASE("ip_hash: the same address always gets the same slot, even when it is down") {
  std::string error;
  RuleConfig rule;
  rule.name = "ip_hash";
  auto policy = make_policy(rule, LibraryLoader{}, error);
  auto slots = all_ready(4);
  std::map<std::size_t, int> seen;
  for (unsigned host = 2; host <= 65; ++host) {
    auto address = ipv4(127, 0, 0, host);
    const auto first = slot_of(policy->pick(RouteInput{address}, slots));
    for (int again = 0; again < 3; ++again) CHECK(slot_of(policy->pick(RouteInput{address}, slots)) == first);
    ++seen[first];
  }
  CHECK(seen.size() == 4);  // 64 addresses reach every slot
  auto address = ipv4(10, 1, 2, 3);
  const auto home = slot_of(policy->pick(RouteInput{address}, slots));
  slots[home].ready = false;
  CHECK(slot_of(policy->pick(RouteInput{address}, slots)) == home);
}

TEST_CASE("prefix table: the longest prefix wins; no match is nothing") {
  PrefixTable table;
  table.add("/chat/", 0);
  table.add("/api/", 1);
  table.add("/chat/admin/", 1);
  CHECK(table.match("/chat/room") == 0u);
  CHECK(table.match("/chat/admin/users") == 1u);
  CHECK(table.match("/api/") == 1u);
  CHECK_FALSE(table.match("/chat").has_value());
  CHECK_FALSE(table.match("/").has_value());
  CHECK(table.others_of(0) == std::vector<std::string>{"/chat/admin/", "/api/"});
  CHECK(table.others_of(1) == std::vector<std::string>{"/chat/"});
}

TEST_CASE("port apps: the only app takes the port; shared ports go by the longest prefix, else 404") {
  RequestHead chat_room;
  chat_room.path = "/chat/room";
  RequestHead root;
  root.path = "/";

  PortApps none;
  CHECK_FALSE(none.owner(&root).has_value());

  PortApps alone;
  CHECK(alone.add({}) == 0u);
  CHECK_FALSE(alone.reads_path());
  CHECK(alone.owner(nullptr) == 0u);  // no head read: the port is its own
  CHECK(alone.owner(&root) == 0u);

  PortApps shared;
  CHECK(shared.add({"/chat/"}) == 0u);
  CHECK(shared.add({"/api/", "/chat/admin/"}) == 1u);
  CHECK(shared.reads_path());
  CHECK(shared.size() == 2u);
  CHECK(shared.owner(&chat_room) == 0u);
  CHECK_FALSE(shared.owner(&root).has_value());     // nobody claims it: 404
  CHECK_FALSE(shared.owner(nullptr).has_value());   // no head: no path to go by
  CHECK(shared.foreign_to(0) == std::vector<std::string>{"/chat/admin/", "/api/"});
}

namespace {
RequestHead head_for(std::string_view path, std::vector<HeaderView> headers = {}, std::string_view query = {}) {
  RequestHead head;
  head.method = "GET";
  head.path = path;
  head.query = query;
  head.headers = std::move(headers);
  return head;
}

Decision pick_with(const RuleConfig& rule, const RequestHead& head, std::size_t slots = 4) {
  std::string error;
  auto policy = make_policy(rule, LibraryLoader{}, error);
  REQUIRE(policy);
  auto views = all_ready(slots);
  auto address = ipv4(127, 0, 0, 1);
  return policy->pick(RouteInput{address, &head}, views);
}

RuleConfig rule(std::string name, std::string key_name = {}) {
  RuleConfig r;
  r.name = std::move(name);
  r.key_name = std::move(key_name);
  return r;
}
}  // namespace

TEST_CASE("url_segment direct: numbers address slots; others are 404 or the fallback") {
  auto r = rule("url_segment");
  r.direct = true;
  CHECK(slot_of(pick_with(r, head_for("/3/room"))) == 2);
  CHECK(slot_of(pick_with(r, head_for("/1"))) == 0);
  for (auto path : {"/5/room", "/0/", "/03/", "/x/", "/", ""}) {
    const auto d = pick_with(r, head_for(path));
    CHECK(d.kind == Decision::Kind::reject);
    CHECK(d.status == 404);
  }
  r.missing_key = "round_robin";
  CHECK(pick_with(r, head_for("/x/")).kind == Decision::Kind::slot);
}

TEST_CASE("key rules hash the same key to the same slot as slot_for_key, wherever the key sits") {
  const std::string key = "room-42";
  const auto expected = slot_for_key(key, 4);
  auto segment = rule("url_segment");
  segment.index = 2;
  CHECK(slot_of(pick_with(segment, head_for("/chat/room-42/messages"))) == expected);
  CHECK(slot_of(pick_with(rule("header", "X-Room"), head_for("/", {{"x-room", "room-42"}}))) == expected);
  CHECK(slot_of(pick_with(rule("cookie", "room"), head_for("/", {{"Cookie", "a=1; room=room-42"}}))) == expected);
  CHECK(slot_of(pick_with(rule("query", "room"), head_for("/", {}, "x=1&room=room-42"))) == expected);
  CHECK(slot_of(pick_with(rule("host"), head_for("/", {{"Host", "Room-42:8080"}}))) == expected);
  // No key: 404 by default.
  CHECK(pick_with(rule("header", "X-Room"), head_for("/")).status == 404);
  CHECK(pick_with(rule("cookie", "room"), head_for("/", {{"Cookie", "other=1"}})).status == 404);
}

TEST_CASE("a plugin that does not exist cannot be made, and the error names it") {
  auto r = rule("plugin");
  r.plugin_path = "/nonexistent/libnothing.so";
  std::string error;
  CHECK_FALSE(make_policy(r, open_shared_library, error));
  CHECK(error.find("/nonexistent/libnothing.so") != std::string::npos);
}
