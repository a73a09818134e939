// The same routing decisions on every platform: tests/fixtures/routing-parity.txt lists
// client addresses with the slot ip_hash must pick among N workers; this test runs on
// Linux and, built for Windows, under wine (make test-windows). The same lines hold for
// the C++ SDK's ip_hash_slot (below), the kernel's program (test_source_hash_program.cpp)
// and the Node SDK (tests/node/route-key.test.js).
#include <doctest/doctest.h>
#include <uv.h>

#include <string>
#include <vector>

#include <handoff/worker.h>

#include "tests/unit/routing_parity_fixture.h"

#include "supervisor/core/routing/dispatch_policy.h"

using namespace handoff;

TEST_CASE("ip_hash picks the slots the parity fixture lists") {
  const PolicyEntry* entry = find_policy("ip_hash");
  REQUIRE(entry != nullptr);
  int checked = 0;
  for (const auto& p : test::routing_parity_fixture()) {
    REQUIRE(p.policy == "ip_hash");
    unsigned char bytes[16] = {};
    const bool v6 = p.address.find(':') != std::string::npos;
    REQUIRE_MESSAGE(uv_inet_pton(v6 ? AF_INET6 : AF_INET, p.address.c_str(), bytes) == 0, p.text);
    std::string error;
    RuleConfig config;
    config.name = "ip_hash";
    auto rule = entry->make(config, LibraryLoader{}, error);
    const std::vector<SlotView> slots(p.workers, SlotView{true});
    const auto picked = rule->pick({{reinterpret_cast<const std::byte*>(bytes), v6 ? 16u : 4u}}, slots);
    REQUIRE(picked.kind == Decision::Kind::slot);
    CHECK_MESSAGE(picked.slot + 1 == p.slot, p.text);
    ++checked;
  }
  CHECK(checked >= 200);
}

TEST_CASE("the C++ SDK's ip_hash_slot gives the slots the parity fixture lists") {
  int checked = 0;
  for (const auto& p : test::routing_parity_fixture()) {
    CHECK_MESSAGE(ip_hash_slot(p.address, static_cast<int>(p.workers)) == static_cast<int>(p.slot), p.text);
    ++checked;
  }
  CHECK(checked >= 500);
  CHECK(ip_hash_slot("fe80::1234:5678%eth0", 5) == ip_hash_slot("fe80::1234:5678", 5));
  CHECK(ip_hash_slot("::FFFF:127.0.0.9", 7) == ip_hash_slot("127.0.0.9", 7));
  for (const char* junk : {"", "x", "1.2.3", "1.2.3.256", "1::2::3"}) CHECK_MESSAGE(ip_hash_slot(junk, 4) == 0, junk);
}
