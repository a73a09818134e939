// ip_hash under kernel dispatch: a classic BPF program, for SO_ATTACH_REUSEPORT_CBPF,
// that computes protocols/address_hash.h's slot_for_address from the packet's source
// address and returns it as the index of the socket in the listener's SO_REUSEPORT group
// (the master creates the group's sockets in slot order, so index k is slot k+1's queue).
// Generated for one slot count and attached again whenever the group changes. Pure: the
// opcodes are defined here (they are classic BPF's, fixed since 1992; the posix attach
// checks them against <linux/filter.h>), and tests/unit runs the program in a small
// interpreter against slot_for_address.
//
// The program:
//   1. the IP version, from the network header (SKF_NET_OFF + 0, high nibble);
//   2. the source address's words: IPv4 at +12; IPv6 at +8..+20, an IPv4-mapped one
//      (::ffff:a.b.c.d) as its IPv4 word at +20; anything else returns kSourceHashFallback;
//   3. the mix and the bucket (32-bit ALU: XOR, MUL, RSH, AND; the accumulator and X);
//   4. a binary decision tree over bucket ranges (a run of consecutive buckets on the same
//      slot is one range) whose leaves return the slot. Jumps are forward and 8-bit: a
//      test whose left subtree is longer than 255 instructions jumps through a BPF_JA.
// Size: at most kAddressBuckets ranges, so under 2 × 1024 + a few relays + ~40, whatever
// the slot count; generate_source_hash_program refuses more than kSourceHashMaxInsns.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace handoff {

// struct sock_filter, field by field.
struct BpfInsn {
  std::uint16_t code;
  std::uint8_t jt;
  std::uint8_t jf;
  std::uint32_t k;
  friend bool operator==(const BpfInsn&, const BpfInsn&) = default;
};

namespace bpf {
// Classes, sizes, modes, operations and sources of classic BPF (linux/filter.h, bpf_common.h).
inline constexpr std::uint16_t LD = 0x00, LDX = 0x01, ALU = 0x04, JMP = 0x05, RET = 0x06, MISC = 0x07;
inline constexpr std::uint16_t W = 0x00, H = 0x08, B = 0x10;
inline constexpr std::uint16_t ABS = 0x20;
inline constexpr std::uint16_t ADD = 0x00, SUB = 0x10, MUL = 0x20, OR = 0x40, AND = 0x50, LSH = 0x60, RSH = 0x70,
                               XOR = 0xa0;
inline constexpr std::uint16_t JA = 0x00, JEQ = 0x10, JGT = 0x20, JGE = 0x30;
inline constexpr std::uint16_t K = 0x00, X = 0x08;
inline constexpr std::uint16_t A = 0x10;  // BPF_RET's source: the accumulator
inline constexpr std::uint16_t TAX = 0x00, TXA = 0x80;
// Loads at SKF_NET_OFF + n read the network header's byte n (the reuseport program's own
// data starts after the TCP header).
inline constexpr std::int32_t kNetOff = -0x100000;
inline constexpr std::uint32_t kMaxInsns = 4096;  // BPF_MAXINSNS
}  // namespace bpf

// What the program returns for a packet that is neither IPv4 nor IPv6: an index no group
// has, so the kernel falls back to its own hash.
inline constexpr std::uint32_t kSourceHashFallback = 0xFFFFFFFFu;

// The program for `slots` (at least 1) sockets; empty if it would exceed BPF_MAXINSNS
// (not for any slot count with kAddressBuckets = 1024: the unit test checks the bound).
// `group_index`, when given (one entry per slot): what the program returns for each slot,
// its socket's place in the group, when that is not the slot's own index (a scale up
// while removed slots' sockets still drain in the group; kSourceHashFallback for a slot
// without a socket).
std::vector<BpfInsn> generate_source_hash_program(std::uint32_t slots,
                                                  std::span<const std::uint32_t> group_index = {});

// round_robin's program, only while a scale-down's removed sockets drain in the group:
// the kernel's own spread would still send them new connections, and a handshake under
// way on a socket when it closes is reset. It spreads by the TCP source port (IPv4 without
// options at +20, IPv6 at +40; a header with options reads other bytes, still a spread):
// bucket = port & 1023, each bucket to a slot as ip_hash's (jump hash), `group_index` as
// above. Detached once the group holds only the slots' sockets again.
std::vector<BpfInsn> generate_port_spread_program(std::uint32_t slots,
                                                  std::span<const std::uint32_t> group_index = {});

}  // namespace handoff
