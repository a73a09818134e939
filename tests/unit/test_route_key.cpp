#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include <cinttypes>
#include <cstdio>
#include <fstream>
#include <optional>
#include <set>
#include <string>

#include "protocols/consistent_hash.h"
#include "protocols/route_key.h"

using namespace handoff;

namespace {

// The cases every implementation (C++, the Node SDK, Windows) must agree on.
const nlohmann::json& fixtures() {
  static const nlohmann::json j = [] {
    std::ifstream in(std::string(HANDOFF_SOURCE_DIR) + "/tests/fixtures/route-keys.json");
    REQUIRE(in.good());
    return nlohmann::json::parse(in);
  }();
  return j;
}

const nlohmann::json& section(const char* name) {
  const auto& s = fixtures().at(name);
  REQUIRE(s.is_array());
  REQUIRE(!s.empty());
  return s;
}

std::optional<std::string> expected_key(const nlohmann::json& entry, const char* field = "key") {
  const auto& v = entry.at(field);
  if (v.is_null()) return std::nullopt;
  return v.get<std::string>();
}

std::optional<std::string> owned(std::optional<std::string_view> v) {
  if (!v) return std::nullopt;
  return std::string(*v);
}

std::string hex64(std::uint64_t v) {
  char text[17];
  std::snprintf(text, sizeof text, "%016" PRIx64, v);
  return text;
}

}  // namespace

TEST_CASE("route keys: XXH64 of each fixture key") {
  for (const auto& e : section("hash")) {
    const auto key = e.at("key").get<std::string>();
    CAPTURE(key);
    CHECK(hex64(key_hash(key)) == e.at("xxh64").get<std::string>());
  }
}

TEST_CASE("route keys: slot of each fixture key") {
  for (const auto& e : section("slots")) {
    const auto key = e.at("key").get<std::string>();
    const auto slots = e.at("slots").get<std::size_t>();
    CAPTURE(key);
    CAPTURE(slots);
    CHECK(slot_for_key(key, slots) == e.at("slot").get<std::size_t>());
  }
}

TEST_CASE("route keys: path segments, queries, cookies, hosts, direct slots of the fixtures") {
  for (const auto& e : section("segments")) {
    const auto path = e.at("path").get<std::string>();
    const int index = e.at("index").get<int>();
    CAPTURE(path);
    CAPTURE(index);
    CHECK(owned(path_segment(path, index)) == expected_key(e));
  }
  for (const auto& e : section("queries")) {
    const auto query = e.at("query").get<std::string>();
    const auto name = e.at("name").get<std::string>();
    CAPTURE(query);
    CAPTURE(name);
    CHECK(owned(query_value(query, name)) == expected_key(e));
  }
  for (const auto& e : section("cookies")) {
    const auto cookie = e.at("cookie").get<std::string>();
    const auto name = e.at("name").get<std::string>();
    CAPTURE(cookie);
    CAPTURE(name);
    CHECK(owned(cookie_value(cookie, name)) == expected_key(e));
  }
  for (const auto& e : section("hosts")) {
    const auto host = e.at("host").get<std::string>();
    CAPTURE(host);
    CHECK(owned(host_without_port(host)) == expected_key(e));
  }
  for (const auto& e : section("direct")) {
    const auto key = e.at("key").get<std::string>();
    const auto slots = e.at("slots").get<std::size_t>();
    CAPTURE(key);
    CAPTURE(slots);
    const auto& slot = e.at("slot");
    const std::optional<std::size_t> expected =
        slot.is_null() ? std::nullopt : std::optional<std::size_t>(slot.get<std::size_t>());
    CHECK(direct_slot(key, slots) == expected);
  }
}

TEST_CASE("route keys: the fixtures cover the edge cases they promise") {
  // A guard against the fixture file losing its hard cases in an edit.
  bool empty = false, non_ascii = false, over32 = false, over240 = false;
  for (const auto& e : section("hash")) {
    const auto key = e.at("key").get<std::string>();
    empty = empty || key.empty();
    for (const char c : key) non_ascii = non_ascii || static_cast<unsigned char>(c) >= 0x80;
    over32 = over32 || key.size() > 32;
    over240 = over240 || key.size() > 240;
  }
  CHECK(empty);
  CHECK(non_ascii);
  CHECK(over32);
  CHECK(over240);
  std::set<std::size_t> counts;
  for (const auto& e : section("slots")) counts.insert(e.at("slots").get<std::size_t>());
  for (const std::size_t n : {1, 2, 3, 4, 5, 6, 7, 8, 100}) CHECK(counts.count(n) == 1);
  std::set<std::string> direct;
  for (const auto& e : section("direct")) direct.insert(e.at("key").get<std::string>());
  for (const char* k : {"0", "01", "+1", "5"}) CHECK(direct.count(k) == 1);
}

TEST_CASE("route keys: jump hash gives the published golden values") {
  // Guava's Hashing.consistentHash golden values, which implementations in other
  // languages reproduce too: the same LCG, the same doubles.
  const std::uint32_t golden100[] = {0, 55, 62, 8, 45, 59, 86, 97, 82, 59, 73, 37, 17, 56, 86, 21, 90, 37, 38, 83};
  for (std::uint64_t i = 0; i < 20; ++i) CHECK(jump_hash(i, 100) == golden100[i]);
  CHECK(jump_hash(10863919174838991ULL, 11) == 6);
  CHECK(jump_hash(2016238256797177309ULL, 11) == 3);
  CHECK(jump_hash(1673758223894951030ULL, 11) == 5);
  CHECK(jump_hash(2, 100001) == 80343);
  CHECK(jump_hash(2201, 100001) == 22152);
  CHECK(jump_hash(2202, 100001) == 15018);
}

TEST_CASE("route keys: keys are views into their input") {
  const std::string path = "/1/room/42";
  const auto seg = path_segment(path, 2);
  REQUIRE(seg);
  CHECK(seg->data() == path.data() + 3);
  const std::string cookie = "a=1; sid=\"abc\"";
  const auto sid = cookie_value(cookie, "sid");
  REQUIRE(sid);
  CHECK(sid->data() == cookie.data() + 10);
  CHECK(*sid == "abc");
}

TEST_CASE("route keys: slot_for_key stays in range and 0 slots counts as 1") {
  for (std::size_t slots = 1; slots <= 16; ++slots)
    for (int k = 0; k < 200; ++k) CHECK(slot_for_key("key-" + std::to_string(k), slots) < slots);
  CHECK(slot_for_key("anything", 0) == 0);
  // A slot count past 32 bits is taken as the largest jump_hash supports, still in range.
  if constexpr (sizeof(std::size_t) > 4) CHECK(slot_for_key("anything", std::size_t{1} << 40) < (std::size_t{1} << 32));
}
