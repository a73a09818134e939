#include <doctest/doctest.h>

#include <array>
#include <cstring>
#include <map>
#include <vector>

#include "supervisor/routing/consistent_hash.h"
#include "supervisor/routing/dispatch_policy.h"

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

TEST_CASE("round_robin cycles over ready slots and skips the others") {
  std::string error;
  auto policy = make_policy(RuleConfig{}, error);
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
  auto policy = make_policy(rule, error);
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
