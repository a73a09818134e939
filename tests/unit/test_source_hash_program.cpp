// ip_hash's address hash (protocols/address_hash.h) and the classic BPF program that
// computes it in the kernel (core/routing/source_hash_program.h): a small interpreter of
// the classic BPF the generator emits runs each program over synthetic IPv4 and IPv6
// headers and must answer slot_for_address, for the parity fixture's addresses and many
// random ones. The real kernel runs it in tests/integration/kernel-ip-hash.test.js.
#include <doctest/doctest.h>
#include <uv.h>

#include <array>
#include <cmath>
#include <fstream>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "protocols/address_hash.h"
#include "supervisor/core/routing/source_hash_program.h"
#include "supervisor/platform/kernel_dispatch.h"
#include "tests/unit/routing_parity_fixture.h"

#ifdef __linux__
#include <unistd.h>
#endif

using namespace handoff;

namespace {

// Runs `program` over a packet whose network header is `net` (loads at SKF_NET_OFF + n
// read net[n]; nothing else is readable). Checks what the kernel's checker would refuse
// (unknown opcodes, jumps out of the program or backwards, a program not ending in RET)
// and returns nullopt for a load past the header (the kernel returns 0 there: the test
// never expects one). Test-only: the opcodes the generator uses, nothing more.
std::optional<std::uint32_t> run(const std::vector<BpfInsn>& program, const std::vector<std::uint8_t>& net) {
  using namespace bpf;
  REQUIRE(!program.empty());
  REQUIRE(program.size() <= kMaxInsns);
  REQUIRE((program.back().code & 0x07) == RET);
  std::uint32_t a = 0, x = 0;
  const auto load = [&](std::uint32_t k, std::size_t size) -> std::optional<std::uint32_t> {
    const std::int64_t off = static_cast<std::int32_t>(k) - static_cast<std::int64_t>(kNetOff);
    REQUIRE(static_cast<std::int32_t>(k) < 0);  // only network-header loads
    if (off < 0 || off + static_cast<std::int64_t>(size) > static_cast<std::int64_t>(net.size())) return std::nullopt;
    std::uint32_t v = 0;
    for (std::size_t i = 0; i < size; ++i) v = v << 8 | net[static_cast<std::size_t>(off) + i];
    return v;
  };
  std::size_t pc = 0;
  for (std::size_t steps = 0; steps <= program.size(); ++steps) {  // forward jumps only: bounded
    REQUIRE(pc < program.size());
    const BpfInsn& in = program[pc++];
    const std::uint16_t cls = in.code & 0x07;
    if (cls == LD) {
      REQUIRE((in.code & 0xe0) == ABS);
      const std::uint16_t size = in.code & 0x18;
      REQUIRE((size == W || size == H || size == B));
      auto v = load(in.k, size == W ? 4 : size == H ? 2 : 1);
      if (!v) return std::nullopt;
      a = *v;
    } else if (cls == ALU) {
      const std::uint32_t operand = (in.code & X) ? x : in.k;
      switch (in.code & 0xf0) {
        case ADD: a += operand; break;
        case SUB: a -= operand; break;
        case MUL: a *= operand; break;
        case OR: a |= operand; break;
        case AND: a &= operand; break;
        case LSH: a = operand < 32 ? a << operand : 0; break;
        case RSH: a = operand < 32 ? a >> operand : 0; break;
        case XOR: a ^= operand; break;
        default: FAIL("unexpected ALU op " << in.code);
      }
    } else if (cls == JMP) {
      const std::uint16_t op = in.code & 0xf0;
      if (op == JA) {
        REQUIRE(pc + in.k < program.size());
        pc += in.k;
        continue;
      }
      const std::uint32_t operand = (in.code & X) ? x : in.k;
      bool taken = false;
      if (op == JEQ) taken = a == operand;
      else if (op == JGT) taken = a > operand;
      else if (op == JGE) taken = a >= operand;
      else FAIL("unexpected jump " << in.code);
      REQUIRE(pc + in.jt < program.size());
      REQUIRE(pc + in.jf < program.size());
      pc += taken ? in.jt : in.jf;
    } else if (cls == MISC) {
      if ((in.code & 0xf8) == TAX) x = a;
      else if ((in.code & 0xf8) == TXA) a = x;
      else FAIL("unexpected misc " << in.code);
    } else if (cls == RET) {
      return (in.code & 0x18) == A ? a : in.k;
    } else {
      FAIL("unexpected class " << in.code);
    }
  }
  FAIL("ran past the program");
  return std::nullopt;
}

// A network header carrying `address` (4 or 16 bytes) as its source.
std::vector<std::uint8_t> header_from(const std::vector<std::uint8_t>& address) {
  if (address.size() == 4) {
    std::vector<std::uint8_t> h(20, 0);
    h[0] = 0x45;
    h[9] = 6;  // TCP
    std::copy(address.begin(), address.end(), h.begin() + 12);
    h[16] = 127, h[19] = 1;  // destination: elsewhere in the header, must not matter
    return h;
  }
  std::vector<std::uint8_t> h(40, 0);
  h[0] = 0x60;
  h[6] = 6;
  std::copy(address.begin(), address.end(), h.begin() + 8);
  h[39] = 1;
  return h;
}

std::vector<std::uint8_t> parse(const std::string& text) {
  const bool v6 = text.find(':') != std::string::npos;
  std::vector<std::uint8_t> bytes(v6 ? 16 : 4);
  REQUIRE_MESSAGE(uv_inet_pton(v6 ? AF_INET6 : AF_INET, text.c_str(), bytes.data()) == 0, text);
  return bytes;
}

std::size_t slot_of(const std::vector<std::uint8_t>& address, std::size_t slots) {
  return slot_for_address(std::as_bytes(std::span(address)), slots);
}

}  // namespace

TEST_CASE("slot_for_address: the parity fixture (the C++ SDK's answer: protocols/ is shared)") {
  const auto lines = test::routing_parity_fixture();
  REQUIRE(lines.size() >= 500);
  for (const auto& f : lines) CHECK_MESSAGE(slot_of(parse(f.address), f.workers) + 1 == f.slot, f.text);
}

TEST_CASE("slot_for_address: an IPv4-mapped IPv6 address is its IPv4 address") {
  std::mt19937 random(7);
  for (int i = 0; i < 2000; ++i) {
    std::vector<std::uint8_t> v4(4), mapped(16, 0);
    for (auto& b : v4) b = static_cast<std::uint8_t>(random());
    mapped[10] = mapped[11] = 0xff;
    std::copy(v4.begin(), v4.end(), mapped.begin() + 12);
    REQUIRE(address_mix(std::as_bytes(std::span(v4))) == address_mix(std::as_bytes(std::span(mapped))));
  }
  CHECK(slot_of(parse("::ffff:127.0.0.9"), 7) == slot_of(parse("127.0.0.9"), 7));
}

TEST_CASE("slot_for_address: N → N+1 moves about 1/(N+1) of the addresses, all to the new slot") {
  std::mt19937 random(11);
  std::vector<std::vector<std::uint8_t>> addresses;
  for (int i = 0; i < 20000; ++i) {
    std::vector<std::uint8_t> a(i % 2 ? 16 : 4);
    for (auto& b : a) b = static_cast<std::uint8_t>(random());
    addresses.push_back(a);
  }
  for (std::size_t n = 1; n <= 32; ++n) {
    std::size_t moved = 0;
    std::vector<std::size_t> per_slot(n + 1, 0);
    for (const auto& a : addresses) {
      const std::size_t before = slot_of(a, n), after = slot_of(a, n + 1);
      ++per_slot[after];
      if (before != after) {
        ++moved;
        REQUIRE(after == n);  // only to the new slot
      }
    }
    const double expected = static_cast<double>(addresses.size()) / static_cast<double>(n + 1);
    // Buckets, not addresses, are what jump hash places: 1024 of them, so a slot's share
    // is a whole number of buckets, within a few standard deviations of 1024/(N+1).
    CHECK_MESSAGE(static_cast<double>(moved) > expected * 0.6, n);
    CHECK_MESSAGE(static_cast<double>(moved) < expected * 1.4, n);
    CHECK(per_slot[n] == moved);
  }
}

TEST_CASE("bucket_slot: each slot's share of the 1024 buckets is within 4 standard deviations of 1024/N") {
  // Jump hash places the buckets as at random, and the table is fixed (deterministic):
  // no slot count up to 64 gives a slot a share far from a random draw's (the worst is
  // about 3 deviations: slot 16 keeps 15 buckets from 31 slots on). Past a hundred or so
  // slots a slot's mean share is a few buckets, where the normal bound does not apply:
  // ip_hash's spread is coarse there (docs/architecture.md).
  for (std::uint32_t n = 1; n <= 64; ++n) {
    std::vector<std::uint32_t> count(n, 0);
    for (std::uint32_t b = 0; b < kAddressBuckets; ++b) ++count[bucket_slot(b, n)];
    const double p = 1.0 / n, mean = kAddressBuckets * p, deviation = std::sqrt(kAddressBuckets * p * (1 - p));
    for (std::uint32_t s = 0; s < n; ++s) {
      CHECK_MESSAGE(count[s] >= mean - 4 * deviation, n, " ", s);
      CHECK_MESSAGE(count[s] <= mean + 4 * deviation, n, " ", s);
    }
  }
}

TEST_CASE("the kernel's program answers slot_for_address for every address, IPv4, IPv6 and IPv4-mapped") {
  const auto lines = test::routing_parity_fixture();
  std::mt19937 random(3);
  std::vector<std::vector<std::uint8_t>> addresses;
  for (const auto& f : lines) addresses.push_back(parse(f.address));
  for (int i = 0; i < 300; ++i) {
    std::vector<std::uint8_t> a(i % 3 == 0 ? 4 : 16);
    for (auto& b : a) b = static_cast<std::uint8_t>(random());
    if (i % 3 == 2) std::fill(a.begin(), a.begin() + 10, 0), a[10] = a[11] = 0xff;  // mapped
    addresses.push_back(a);
  }
  std::vector<std::uint32_t> counts;
  for (std::uint32_t n = 1; n <= 64; ++n) counts.push_back(n);
  for (std::uint32_t n : {100u, 127u, 128u, 255u, 256u, 500u, 1000u, 1023u, 1024u, 1025u, 4096u, 65535u})
    counts.push_back(n);
  for (std::uint32_t n : counts) {
    const std::vector<BpfInsn> program = generate_source_hash_program(n);
    REQUIRE_MESSAGE(!program.empty(), n);
    REQUIRE(program.size() <= bpf::kMaxInsns);
    for (const auto& f : lines) {
      if (f.workers != n) continue;
      const auto got = run(program, header_from(parse(f.address)));
      REQUIRE(got);
      CHECK_MESSAGE(*got + 1 == f.slot, f.address, " among ", n);
    }
    for (const auto& a : addresses) {
      const auto got = run(program, header_from(a));
      REQUIRE(got);
      CHECK_MESSAGE(*got == slot_of(a, n), "among ", n);
    }
    // Every bucket, through an IPv4 address that falls in it: the whole decision tree.
    std::vector<bool> seen(kAddressBuckets, false);
    std::size_t found = 0;
    for (std::uint32_t v = 0; found < kAddressBuckets && v < 1u << 20; ++v) {
      const std::vector<std::uint8_t> a{10, static_cast<std::uint8_t>(v >> 16), static_cast<std::uint8_t>(v >> 8),
                                        static_cast<std::uint8_t>(v)};
      const std::uint32_t b = address_bucket(std::as_bytes(std::span(a)));
      if (seen[b]) continue;
      seen[b] = true;
      ++found;
      const auto got = run(program, header_from(a));
      REQUIRE(got);
      REQUIRE(*got == bucket_slot(b, n));
    }
    REQUIRE(found == kAddressBuckets);
  }
}

TEST_CASE("the kernel's program: its largest size, and what it returns for neither IPv4 nor IPv6") {
  std::size_t largest = 0;
  for (std::uint32_t n = 1; n <= 2048; ++n) largest = std::max(largest, generate_source_hash_program(n).size());
  MESSAGE("largest program for 1..2048 slots: ", largest, " instructions");
  CHECK(largest > 0);
  CHECK(largest <= bpf::kMaxInsns);
  CHECK(generate_source_hash_program(1).size() < 64);  // one slot: one leaf
  std::vector<std::uint8_t> arp(28, 0);
  arp[0] = 0x00;
  CHECK(run(generate_source_hash_program(4), arp) == kSourceHashFallback);
}

TEST_CASE("the kernel's program with each slot's place in the group: it returns the place, not the slot") {
  // 5 slots after a scale 5 → 3 → 5 while slots 4 and 5's old sockets drain: the group is
  // [s1, s2, s3, old4, old5, s4, s5]; then old4 closes and the kernel moves s5 into its place.
  std::mt19937 random(5);
  for (const std::vector<std::uint32_t>& index :
       {std::vector<std::uint32_t>{0, 1, 2, 5, 6}, std::vector<std::uint32_t>{0, 1, 2, 5, 3},
        std::vector<std::uint32_t>{0, kSourceHashFallback, 2, 3, 4}}) {
    const auto program = generate_source_hash_program(5, index);
    REQUIRE(!program.empty());
    for (int i = 0; i < 500; ++i) {
      std::vector<std::uint8_t> a(i % 2 ? 16 : 4);
      for (auto& b : a) b = static_cast<std::uint8_t>(random());
      const auto got = run(program, header_from(a));
      REQUIRE(got);
      CHECK(*got == index[slot_of(a, 5)]);
    }
  }
  const std::vector<std::uint32_t> wrong_size{0, 1};
  CHECK(generate_source_hash_program(5, wrong_size).empty());
}

TEST_CASE("round_robin's program while removed sockets drain: the TCP source port picks the socket") {
  std::mt19937 random(7);
  for (std::uint32_t n = 1; n <= 16; ++n) {
    std::vector<std::uint32_t> index(n);
    for (std::uint32_t i = 0; i < n; ++i) index[i] = n - 1 - i;  // any places in the group
    const auto program = generate_port_spread_program(n, index);
    REQUIRE(!program.empty());
    for (int i = 0; i < 400; ++i) {
      const auto port = static_cast<std::uint16_t>(random());
      // An IPv4 header without options, then the TCP source port; an IPv6 header, then it.
      std::vector<std::uint8_t> v4(22), v6(42);
      v4[0] = 0x45;
      v6[0] = 0x60;
      v4[20] = v6[40] = static_cast<std::uint8_t>(port >> 8);
      v4[21] = v6[41] = static_cast<std::uint8_t>(port);
      const std::uint32_t want = index[bucket_slot(port & (kAddressBuckets - 1), n)];
      CHECK(run(program, v4) == want);
      CHECK(run(program, v6) == want);
    }
    CHECK(run(program, std::vector<std::uint8_t>(42, 0x50)) == kSourceHashFallback);
  }
}

#ifdef __linux__
TEST_CASE("the kernel's checker takes the program for every slot count up to 2048 (SO_ATTACH_REUSEPORT_CBPF)") {
  int error = 0;
  const std::intptr_t fd = platform::open_reuseport_socket("127.0.0.1", 0, true, 16, error);
  REQUIRE_MESSAGE(fd >= 0, error);
  for (int n = 1; n <= 2048; n += (n < 128 ? 1 : 37)) {
    std::string why;
    CHECK_MESSAGE(platform::attach_source_hash(fd, n, {}, why), n, ": ", why);
  }
  for (int n = 1; n <= 64; ++n) {
    std::string why;
    CHECK_MESSAGE(platform::attach_source_hash(fd, n, {}, why, true), n, ": ", why);
  }
  std::string why;
  CHECK(platform::detach_source_hash(fd, why));
  CHECK(platform::detach_source_hash(fd, why));  // none attached: fine too
  ::close(static_cast<int>(fd));
}
#endif
