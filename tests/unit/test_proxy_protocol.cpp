#include <doctest/doctest.h>

#include <string>
#include <string_view>
#include <vector>

#include "supervisor/core/routing/proxy_protocol.h"

using namespace handoff;

namespace {

std::vector<std::byte> bytes_of(std::string_view s) {
  const auto* p = reinterpret_cast<const std::byte*>(s.data());
  return {p, p + s.size()};
}

ProxyParse parse(std::string_view s) {
  const auto b = bytes_of(s);  // exactly these bytes: ASan sees any read beyond them
  return parse_proxy_header(b);
}

std::vector<std::byte> address_of(const ProxyHeader& h) {
  return {h.address.begin(), h.address.begin() + static_cast<std::ptrdiff_t>(h.address_length)};
}

std::vector<std::byte> octets(std::initializer_list<int> values) {
  std::vector<std::byte> out;
  for (const int v : values) out.push_back(std::byte(v));
  return out;
}

const std::string kV2Signature("\r\n\r\n\0\r\nQUIT\n", 12);

// A v2 header: signature, version 2 with `command`, `family`, then `block` (addresses,
// ports, TLVs) with its length.
std::string v2(unsigned command, unsigned family, const std::string& block) {
  std::string s = kV2Signature;
  s += static_cast<char>(0x20 | command);
  s += static_cast<char>(family);
  s += static_cast<char>(block.size() >> 8);
  s += static_cast<char>(block.size() & 0xFF);
  return s + block;
}

std::string raw(std::initializer_list<int> values) {
  std::string s;
  for (const int v : values) s += static_cast<char>(v);
  return s;
}

}  // namespace

TEST_CASE("PROXY v1: TCP4, TCP6 and UNKNOWN") {
  {
    const std::string line = "PROXY TCP4 203.0.113.7 192.0.2.1 56324 443\r\n";
    const ProxyParse p = parse(line + "GET / HTTP/1.1\r\n\r\n");
    REQUIRE(p.status == ProxyStatus::complete);
    CHECK(p.header.length == line.size());
    CHECK_FALSE(p.header.local);
    CHECK(address_of(p.header) == octets({203, 0, 113, 7}));
    CHECK(p.header.address_text == "203.0.113.7");
    CHECK(p.header.port == 56324);
  }
  {
    const std::string line = "PROXY TCP6 2001:db8::1 2001:db8::2 0 65535\r\n";
    const ProxyParse p = parse(line);
    REQUIRE(p.status == ProxyStatus::complete);
    CHECK(p.header.length == line.size());
    CHECK(address_of(p.header) == octets({0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}));
    CHECK(p.header.address_text == "2001:db8::1");
    CHECK(p.header.port == 0);
  }
  {
    // An IPv4-mapped source is the IPv4 address.
    const ProxyParse p = parse("PROXY TCP6 ::ffff:198.51.100.9 ::1 1234 80\r\n");
    REQUIRE(p.status == ProxyStatus::complete);
    CHECK(address_of(p.header) == octets({198, 51, 100, 9}));
    CHECK(p.header.address_text == "198.51.100.9");
    CHECK(p.header.port == 1234);
  }
  for (const std::string line : {"PROXY UNKNOWN\r\n", "PROXY UNKNOWN ffff::1 ffff::2 1 2\r\n",
                                 "PROXY UNKNOWN anything at all here\r\n"}) {
    CAPTURE(line);
    const ProxyParse p = parse(line + "GET");
    REQUIRE(p.status == ProxyStatus::complete);
    CHECK(p.header.local);
    CHECK(p.header.length == line.size());
    CHECK(p.header.address_length == 0);
  }
}

TEST_CASE("PROXY v1: every proper prefix is incomplete") {
  for (const std::string line : {"PROXY TCP4 203.0.113.7 192.0.2.1 56324 443\r\n",
                                 "PROXY TCP6 2001:db8::1 2001:db8::2 0 65535\r\n", "PROXY UNKNOWN\r\n"}) {
    for (std::size_t n = 0; n < line.size(); ++n) {
      CAPTURE(line.substr(0, n));
      CHECK(parse(line.substr(0, n)).status == ProxyStatus::incomplete);
    }
    CHECK(parse(line).status == ProxyStatus::complete);
  }
}

TEST_CASE("PROXY v1: the longest header is 107 bytes") {
  const std::string longest =
      "PROXY TCP6 ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n";
  REQUIRE(longest.size() == 104);
  CHECK(parse(longest).status == ProxyStatus::complete);
  // UNKNOWN with 107 bytes in all is fine, 108 is not.
  const std::string unknown107 = "PROXY UNKNOWN " + std::string(107 - 16, 'x') + "\r\n";
  REQUIRE(unknown107.size() == 107);
  CHECK(parse(unknown107).status == ProxyStatus::complete);
  const std::string unknown108 = "PROXY UNKNOWN " + std::string(108 - 16, 'x') + "\r\n";
  CHECK(parse(unknown108).status == ProxyStatus::invalid);
  CHECK(parse(unknown108.substr(0, 106)).status == ProxyStatus::incomplete);
  CHECK(parse(unknown108.substr(0, 107)).status == ProxyStatus::invalid);
  // No end of line within 107 bytes.
  CHECK(parse("PROXY " + std::string(101, 'x')).status == ProxyStatus::invalid);
}

TEST_CASE("PROXY v1: malformed fields are invalid") {
  const char* cases[] = {
      "PROXY TCP4 203.0.113.7 192.0.2.1 56324 443\n",      // LF without CR
      "PROXY TCP4 203.0.113.7 192.0.2.1 56324 443\r\r\n",  // stray CR
      "PROXY TCP4 203.0.113.7\r192.0.2.1 56324 443\r\n",
      "PROXY TCP5 203.0.113.7 192.0.2.1 56324 443\r\n",    // unknown protocol
      "PROXY tcp4 203.0.113.7 192.0.2.1 56324 443\r\n",
      "PROXY  TCP4 203.0.113.7 192.0.2.1 56324 443\r\n",   // two spaces
      "PROXY TCP4  203.0.113.7 192.0.2.1 56324 443\r\n",
      "PROXY TCP4 203.0.113.7 192.0.2.1 56324 443 \r\n",   // trailing space
      "PROXY TCP4 203.0.113.7 192.0.2.1 56324\r\n",        // missing field
      "PROXY TCP4 203.0.113.7 192.0.2.1 56324 443 1\r\n",  // extra field
      "PROXY TCP4 2001:db8::1 192.0.2.1 56324 443\r\n",    // family mismatch
      "PROXY TCP6 203.0.113.7 2001:db8::2 56324 443\r\n",
      "PROXY TCP4 203.0.113.7 2001:db8::2 56324 443\r\n",
      "PROXY TCP4 203.0.113.256 192.0.2.1 56324 443\r\n",  // octet out of range
      "PROXY TCP4 203.0.113 192.0.2.1 56324 443\r\n",      // three octets
      "PROXY TCP4 203.0.113.07 192.0.2.1 56324 443\r\n",   // leading zero
      "PROXY TCP4 localhost 192.0.2.1 56324 443\r\n",      // a name
      "PROXY TCP6 fe80::1%eth0 ::1 56324 443\r\n",         // a zone
      "PROXY TCP6 2001:db8:::1 ::1 56324 443\r\n",
      "PROXY TCP6 1:2:3:4:5:6:7:8:9 ::1 56324 443\r\n",
      "PROXY TCP4 203.0.113.7 192.0.2.1 65536 443\r\n",    // port out of range
      "PROXY TCP4 203.0.113.7 192.0.2.1 56324 99999\r\n",
      "PROXY TCP4 203.0.113.7 192.0.2.1 +5 443\r\n",       // signed
      "PROXY TCP4 203.0.113.7 192.0.2.1 -5 443\r\n",
      "PROXY TCP4 203.0.113.7 192.0.2.1 5a 443\r\n",
      "PROXY TCP4 203.0.113.7 192.0.2.1 100000 443\r\n",
      "PROXY TCP4 203.0.113.7 192.0.2.1  443\r\n",
      "PROXY \r\n",
      "PROXY UNKNOWNX\r\n",
      "PROXY\r\n",
      "PROXX TCP4 203.0.113.7 192.0.2.1 56324 443\r\n",  // not PROXY at all
      "proxy TCP4 203.0.113.7 192.0.2.1 56324 443\r\n",
      "GET / HTTP/1.1\r\n\r\n",
  };
  for (const std::string_view c : cases) {
    CAPTURE(c);
    CHECK(parse(c).status == ProxyStatus::invalid);
  }
  // Invalid as soon as it cannot become a header.
  CHECK(parse("PROXX").status == ProxyStatus::invalid);
  CHECK(parse("G").status == ProxyStatus::invalid);
  CHECK(parse("PROXY TCP4\r1").status == ProxyStatus::invalid);
}

TEST_CASE("PROXY v2: PROXY over TCP4 and TCP6, TLVs skipped") {
  {
    const std::string header = v2(1, 0x11, raw({203, 0, 113, 7, 192, 0, 2, 1, 0xDC, 0x04, 0x01, 0xBB}));
    REQUIRE(header.size() == 28);
    const ProxyParse p = parse(header + "GET / HTTP/1.1\r\n\r\n");
    REQUIRE(p.status == ProxyStatus::complete);
    CHECK(p.header.length == 28);
    CHECK_FALSE(p.header.local);
    CHECK(address_of(p.header) == octets({203, 0, 113, 7}));
    CHECK(p.header.address_text == "203.0.113.7");
    CHECK(p.header.port == 0xDC04);
  }
  {
    std::string block = raw({0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x42});
    block += raw({0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1});
    block += raw({0x30, 0x39, 0x00, 0x50});
    // TLVs: PP2_TYPE_ALPN "h2", PP2_TYPE_NOOP padding.
    block += raw({0x01, 0x00, 0x02, 'h', '2', 0x04, 0x00, 0x03, 0, 0, 0});
    const std::string header = v2(1, 0x21, block);
    const ProxyParse p = parse(header + "GET");
    REQUIRE(p.status == ProxyStatus::complete);
    CHECK(p.header.length == header.size());
    CHECK(address_of(p.header) == octets({0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x42}));
    CHECK(p.header.address_text == "2001:db8::42");
    CHECK(p.header.port == 12345);
  }
  {
    // IPv4-mapped source.
    std::string block = raw({0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 198, 51, 100, 9});
    block += std::string(16, '\0') + raw({0x04, 0xD2, 0x00, 0x50});
    const ProxyParse p = parse(v2(1, 0x21, block));
    REQUIRE(p.status == ProxyStatus::complete);
    CHECK(address_of(p.header) == octets({198, 51, 100, 9}));
    CHECK(p.header.address_text == "198.51.100.9");
    CHECK(p.header.port == 1234);
  }
}

TEST_CASE("PROXY v2: LOCAL, and families other than TCP keep the peer address") {
  const std::string tcp4_block = raw({203, 0, 113, 7, 192, 0, 2, 1, 0xDC, 0x04, 0x01, 0xBB});
  struct Case {
    unsigned command, family;
    std::string block;
  };
  const Case cases[] = {
      {0, 0x00, ""},                         // LOCAL, UNSPEC: a health check
      {0, 0x11, tcp4_block},                 // LOCAL with addresses: ignored
      {1, 0x00, ""},                         // PROXY, UNSPEC
      {1, 0x12, tcp4_block},                 // UDP over IPv4
      {1, 0x31, std::string(216, 'u')},      // UNIX stream
      {1, 0x32, std::string(216, 'u')},      // UNIX datagram
      {1, 0x10, tcp4_block},                 // IPv4, UNSPEC transport
  };
  for (const Case& c : cases) {
    CAPTURE(c.command);
    CAPTURE(c.family);
    const std::string header = v2(c.command, c.family, c.block);
    const ProxyParse p = parse(header + "GET");
    REQUIRE(p.status == ProxyStatus::complete);
    CHECK(p.header.local);
    CHECK(p.header.length == header.size());
    CHECK(p.header.address_length == 0);
  }
}

TEST_CASE("PROXY v2: every proper prefix is incomplete") {
  std::string block = std::string(16, '\x11') + std::string(16, '\x22') + raw({0x30, 0x39, 0x00, 0x50});
  block += raw({0x01, 0x00, 0x02, 'h', '2'});
  for (const std::string& header : {v2(1, 0x21, block), v2(0, 0x00, "")}) {
    for (std::size_t n = 0; n < header.size(); ++n) {
      CAPTURE(n);
      CHECK(parse(header.substr(0, n)).status == ProxyStatus::incomplete);
    }
    CHECK(parse(header).status == ProxyStatus::complete);
  }
}

TEST_CASE("PROXY v2: bad version, command, family, short address block, oversized") {
  const std::string tcp4_block = raw({203, 0, 113, 7, 192, 0, 2, 1, 0xDC, 0x04, 0x01, 0xBB});
  // Version 1 or 3 in the binary form, command 2.
  for (const char version_command : {'\x11', '\x31', '\x22', '\x2F'}) {
    std::string h = v2(1, 0x11, tcp4_block);
    h[12] = version_command;
    CHECK(parse(h).status == ProxyStatus::invalid);
    CHECK(parse(h.substr(0, 13)).status == ProxyStatus::invalid);  // known at once
  }
  // Families and transports the spec does not define.
  for (const unsigned family : {0x41u, 0x13u, 0xF1u}) {
    CAPTURE(family);
    CHECK(parse(v2(1, family, tcp4_block)).status == ProxyStatus::invalid);
  }
  // Address blocks shorter than their family needs.
  CHECK(parse(v2(1, 0x11, tcp4_block.substr(0, 11))).status == ProxyStatus::invalid);
  CHECK(parse(v2(1, 0x21, std::string(35, '\0'))).status == ProxyStatus::invalid);
  // The longest header we take, and one byte more (known from the length field alone).
  const std::string largest = v2(1, 0x11, tcp4_block + std::string(kMaxProxyHeader - 16 - 12, '\0'));
  REQUIRE(largest.size() == kMaxProxyHeader);
  CHECK(parse(largest).status == ProxyStatus::complete);
  const std::string too_long = v2(1, 0x11, tcp4_block + std::string(kMaxProxyHeader - 16 - 12 + 1, '\0'));
  CHECK(parse(too_long).status == ProxyStatus::invalid);
  CHECK(parse(too_long.substr(0, 16)).status == ProxyStatus::invalid);
  CHECK(parse(v2(0, 0x00, std::string(0xFFFF, '\0')).substr(0, 16)).status == ProxyStatus::invalid);
  // Not the signature.
  std::string wrong = v2(1, 0x11, tcp4_block);
  wrong[11] = 'x';
  CHECK(parse(wrong).status == ProxyStatus::invalid);
}

TEST_CASE("looks_like_proxy_header: v1 and v2, whole or partial") {
  const auto looks = [](std::string_view s) { return looks_like_proxy_header(bytes_of(s)); };
  CHECK(looks("PROXY TCP4 203.0.113.7 192.0.2.1 56324 443\r\n"));
  CHECK(looks("PROXY "));
  CHECK(looks("PROX"));
  CHECK(looks("P"));
  CHECK(looks(kV2Signature));
  CHECK(looks(kV2Signature.substr(0, 5)));
  CHECK(looks(v2(0, 0, "")));
  CHECK_FALSE(looks(""));
  CHECK_FALSE(looks("PROXYTCP4"));
  CHECK_FALSE(looks("PROPFIND / HTTP/1.1\r\n"));
  CHECK_FALSE(looks("POST / HTTP/1.1\r\n"));
  CHECK_FALSE(looks("GET / HTTP/1.1\r\n"));
  CHECK_FALSE(looks("\r\n\r\nGET / HTTP/1.1\r\n"));
}
