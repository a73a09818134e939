// ip_hash's mapping of a client address to a slot, in a form that classic BPF can compute
// with 32-bit arithmetic: the kernel runs the same function (a program the master
// generates, supervisor/core/routing/source_hash_program.h) when it picks a slot's socket
// under kernel dispatch, so the same client reaches the same slot under kernel and master
// dispatch. Pure; shared by the master and the C++ SDK; worker-sdk/node/route-key.js
// (slotForAddress) computes the same in JS; tests/fixtures/routing-parity.txt holds the
// answers every implementation must give.
//
//   words   the address's bytes read as big-endian 32-bit words (how BPF loads packet
//           words): IPv4 1 word; IPv6 4 words; an IPv4-mapped IPv6 address
//           (::ffff:a.b.c.d) is its IPv4 address, since a dual-stack '::' socket shows
//           IPv4 clients so to the master while the kernel's program sees an IPv4 packet.
//   mix     h = seed; per word: h = (h ^ w) * M1, h ^= h >> 16; then murmur3's fmix32.
//   bucket  mix & (kAddressBuckets - 1).
//   slot    jump_hash(bucket, slots): growing N → N+1 moves about 1/(N+1) of the buckets
//           (so of the addresses), all of them to the new slot.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace handoff {

// Buckets between the mix and the slots. Their count bounds the kernel's program: one
// range per run of buckets on the same slot, so at most 1024 leaves and 1023 tests,
// whatever the slot count (under BPF_MAXINSNS, 4096). It is also ip_hash's granularity:
// an address stays with its bucket, and a slot's share is a whole number of buckets.
inline constexpr std::uint32_t kAddressBuckets = 1024;

// The mix's constants (the program generator uses them too).
inline constexpr std::uint32_t kAddressSeed = 0x9747B28Cu;
inline constexpr std::uint32_t kAddressWordMultiplier = 0x9E3779B1u;
inline constexpr std::uint32_t kFmixMultiplier1 = 0x85EBCA6Bu;
inline constexpr std::uint32_t kFmixMultiplier2 = 0xC2B2AE35u;

// The 32-bit mix of an address given as 4 (IPv4) or 16 (IPv6) bytes, network order. Any
// other length is mixed as its first whole words (no such address reaches ip_hash).
std::uint32_t address_mix(std::span<const std::byte> address);

// Its bucket in [0, kAddressBuckets).
inline std::uint32_t address_bucket(std::span<const std::byte> address) {
  return address_mix(address) & (kAddressBuckets - 1);
}

// The slot (0-based) of each bucket among `slots` (at least 1): jump_hash(bucket, slots).
std::uint32_t bucket_slot(std::uint32_t bucket, std::uint32_t slots);

// ip_hash: the 0-based slot of a client address among `slots` (at least 1).
std::size_t slot_for_address(std::span<const std::byte> address, std::size_t slots);

}  // namespace handoff
