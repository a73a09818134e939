// core/ip_text.h against libuv's uv_inet_pton and uv_inet_ntop, which the core used
// before it had to do without libuv: the same texts accepted, the same bytes, the same
// text written back. A table of the cases that matter, then a bounded, seeded sweep of
// random texts and addresses (the same every run).
#include <doctest/doctest.h>

#include <uv.h>

#include <array>
#include <cstdint>
#include <optional>
#include <random>
#include <string>

#include "supervisor/core/ip_text.h"

using namespace handoff;

namespace {

std::optional<std::array<unsigned char, 16>> uv_parse(const std::string& text, bool v6) {
  std::array<unsigned char, 16> out{};
  if (uv_inet_pton(v6 ? AF_INET6 : AF_INET, text.c_str(), out.data()) != 0) return std::nullopt;
  return out;
}

std::optional<std::array<unsigned char, 16>> our_parse(const std::string& text, bool v6) {
  std::array<unsigned char, 16> out{};
  if (v6) {
    const auto a = parse_ipv6_text(text);
    if (!a) return std::nullopt;
    return *a;
  }
  const auto a = parse_ipv4_text(text);
  if (!a) return std::nullopt;
  std::copy(a->begin(), a->end(), out.begin());
  return out;
}

void agrees_on_text(const std::string& text) {
  for (const bool v6 : {false, true}) {
    INFO((v6 ? "IPv6 \"" : "IPv4 \"") << text << "\"");
    CHECK(our_parse(text, v6) == uv_parse(text, v6));
  }
}

std::string uv_format(const unsigned char* bytes, bool v6) {
  char text[64];
  REQUIRE(uv_inet_ntop(v6 ? AF_INET6 : AF_INET, bytes, text, sizeof text) == 0);
  return text;
}

void agrees_on_bytes(const std::array<unsigned char, 16>& bytes) {
  CHECK(ipv6_text(bytes) == uv_format(bytes.data(), true));
  CHECK(ipv4_text(std::span<const unsigned char, 4>(bytes.data(), 4)) == uv_format(bytes.data(), false));
}

std::array<unsigned char, 16> from_words(std::array<std::uint16_t, 8> words) {
  std::array<unsigned char, 16> out{};
  for (std::size_t i = 0; i < 8; ++i) {
    out[2 * i] = static_cast<unsigned char>(words[i] >> 8);
    out[2 * i + 1] = static_cast<unsigned char>(words[i] & 0xff);
  }
  return out;
}

}  // namespace

TEST_CASE("ip_text parses what uv_inet_pton parses, and nothing else") {
  const char* const cases[] = {
      // IPv4
      "0.0.0.0", "127.0.0.1", "255.255.255.255", "1.2.3.4", "01.2.3.4", "1.2.3", "1.2.3.4.5", "256.1.1.1",
      "1.2.3.4.", ".1.2.3.4", "1..2.3", "1.2.3.04", "1.2.3.00", "1.2.3.0", "1234.1.1.1", "1.2.3.4 ", " 1.2.3.4",
      "0x1.2.3.4", "1.2.3.-4", "+1.2.3.4", "", ".", "1", "999.0.0.0",
      // IPv6
      "::", "::1", "1::", "::0", "1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7::", "::2:3:4:5:6:7:8", "1::8", "1:2:3:4:5:6:7:8:9",
      "1:2:3:4:5:6:7", "1:2:3:4:5:6:7:8::", "::1:2:3:4:5:6:7:8", "1::2:3:4:5:6:7:8", "1::2::3", ":::", ":::1", "1:::2",
      ":1::2", "1::2:", ":1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8:", "12345::", "0001:2:3:4:5:6:7:8", "00001::",
      "ABCD:ef01::", "abcd:EF01::g", "::ffff:1.2.3.4", "::1.2.3.4", "::ffff:01.2.3.4",
      "::ffff:1.2.3", "::ffff:1.2.3.4:5", "1.2.3.4::", "1:2:3:4:5:6:1.2.3.4", "1:2:3:4:5:6:7:1.2.3.4",
      "1:2:3:4:5:1.2.3.4", "1::1.2.3.4", "::abc1.2.3.4", "::1234.1.1.1", "::12345.1.1.1", "::ffff:256.1.1.1",
      "1.2.3.4", "::1.2.3.4.5", "2001:db8::ff00:42:8329", "[::1]", "::1 ", "0:0:0:0:0:0:0:0", "::ffff:0.0.0.0",
  };
  for (const char* text : cases) agrees_on_text(text);
}

TEST_CASE("ip_text takes no IPv6 zone, which uv_inet_pton drops") {
  // parse_host_port strips a listener's zone itself (address.cpp); the PROXY protocol has none.
  CHECK_FALSE(parse_ipv6_text("fe80::1%eth0"));
  CHECK(uv_parse("fe80::1%eth0", true) == our_parse("fe80::1", true));
}

TEST_CASE("ip_text writes what uv_inet_ntop writes") {
  const std::array<std::uint16_t, 8> cases[] = {
      {0, 0, 0, 0, 0, 0, 0, 0},          {0, 0, 0, 0, 0, 0, 0, 1},          {1, 0, 0, 0, 0, 0, 0, 0},
      {0, 0, 0, 0, 0, 0xffff, 0x0102, 0x0304}, {0, 0, 0, 0, 0, 0xffff, 0, 0},      {0, 0, 0, 0, 0, 0, 0x0102, 0x0304},
      {0, 0, 0, 0, 0, 0, 0x0102, 0},     {0, 0, 0, 0, 0, 0, 0, 2},          {0, 0, 0, 0, 0, 0xfffe, 1, 2},
      {1, 0, 2, 0, 3, 0, 4, 0},          {1, 0, 0, 2, 0, 0, 3, 4},          {1, 0, 0, 2, 0, 0, 0, 4},
      {0x2001, 0xdb8, 0, 0, 0, 0xff00, 0x42, 0x8329}, {0xabcd, 0xef01, 0x2345, 0x6789, 0xabcd, 0xef01, 0x2345, 0x6789},
      {1, 2, 3, 4, 5, 6, 7, 0},          {0, 1, 2, 3, 4, 5, 6, 7},          {0, 0, 1, 0, 0, 0, 0, 0},
      {0, 0, 0, 0, 0, 1, 0x0102, 0x0304}, {0, 0, 0, 0, 0, 0xffff, 0xffff, 0xffff},
  };
  for (const auto& words : cases) agrees_on_bytes(from_words(words));
}

TEST_CASE("ip_text and libuv agree on a seeded sweep of random texts and addresses") {
  std::mt19937 random(17);
  const std::string alphabet = "0123456789abcdefABCDEF:.:.:..0000";
  auto pick = [&](std::size_t n) { return std::uniform_int_distribution<std::size_t>(0, n - 1)(random); };
  for (int i = 0; i < 100'000; ++i) {
    std::string text;
    for (std::size_t n = pick(24); n > 0; --n) text += alphabet[pick(alphabet.size())];
    agrees_on_text(text);
  }
  // Valid addresses written out by libuv, then read back and rewritten.
  for (int i = 0; i < 20'000; ++i) {
    std::array<std::uint16_t, 8> words{};
    for (auto& w : words)  // mostly zeros, so the runs of zeros vary
      w = static_cast<std::uint16_t>(pick(3) ? 0 : pick(4) ? pick(0x10000) : pick(0x100));
    if (pick(4) == 0) words[5] = 0xffff;
    const auto bytes = from_words(words);
    agrees_on_bytes(bytes);
    agrees_on_text(uv_format(bytes.data(), true));
    agrees_on_text(uv_format(bytes.data(), false));
  }
}

TEST_CASE("ip_text writes every octet of an IPv4 address as uv_inet_ntop does, into 15 bytes") {
  for (unsigned v = 0; v < 256; ++v) {
    const auto b = static_cast<unsigned char>(v);
    for (const std::array<unsigned char, 4> bytes : {std::array<unsigned char, 4>{b, b, b, b},
                                                     std::array<unsigned char, 4>{b, 0, 255, b}}) {
      char out[15];
      const char* end = write_ipv4_text(bytes, out);
      CHECK(std::string(out, static_cast<std::size_t>(end - out)) == uv_format(bytes.data(), false));
    }
  }
}
