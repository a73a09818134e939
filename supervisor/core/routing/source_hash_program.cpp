#include "supervisor/core/routing/source_hash_program.h"

#include <cstddef>

#include "protocols/address_hash.h"

namespace handoff {
namespace {

using namespace bpf;

constexpr BpfInsn stmt(std::uint16_t code, std::uint32_t k) { return {code, 0, 0, k}; }
constexpr BpfInsn jump(std::uint16_t code, std::uint32_t k, std::uint8_t jt, std::uint8_t jf) {
  return {code, jt, jf, k};
}
constexpr std::uint32_t net(std::int32_t offset) { return static_cast<std::uint32_t>(kNetOff + offset); }

// A run of consecutive buckets [first, next run's first) on one slot.
struct Range {
  std::uint32_t first;
  std::uint32_t slot;
};

// The decision tree over ranges[lo, hi) with the bucket in A: preorder, the subtree of
// buckets below the split right after the test (its false branch), the other after it.
std::vector<BpfInsn> tree(const std::vector<Range>& ranges, std::size_t lo, std::size_t hi) {
  if (hi - lo == 1) return {stmt(RET | K, ranges[lo].slot)};
  const std::size_t mid = lo + (hi - lo) / 2;
  std::vector<BpfInsn> below = tree(ranges, lo, mid);
  std::vector<BpfInsn> above = tree(ranges, mid, hi);
  std::vector<BpfInsn> out;
  out.reserve(below.size() + above.size() + 2);
  if (below.size() <= 255) {
    out.push_back(jump(JMP | JGE | K, ranges[mid].first, static_cast<std::uint8_t>(below.size()), 0));
  } else {
    // jt and jf are 8-bit: the true branch goes through a relay with a 32-bit offset.
    out.push_back(jump(JMP | JGE | K, ranges[mid].first, 0, 1));
    out.push_back(stmt(JMP | JA, static_cast<std::uint32_t>(below.size())));
  }
  out.insert(out.end(), below.begin(), below.end());
  out.insert(out.end(), above.begin(), above.end());
  return out;
}

// A ^= A >> shift (X is clobbered).
void xorshift(std::vector<BpfInsn>& p, std::uint32_t shift) {
  p.push_back(stmt(MISC | TAX, 0));
  p.push_back(stmt(ALU | RSH | K, shift));
  p.push_back(stmt(ALU | XOR | X, 0));
}

// One word of the mix: the word is in A, h in X (or, for the first word, the seed).
void mix_word(std::vector<BpfInsn>& p, bool first) {
  p.push_back(first ? stmt(ALU | XOR | K, kAddressSeed) : stmt(ALU | XOR | X, 0));
  p.push_back(stmt(ALU | MUL | K, kAddressWordMultiplier));
  xorshift(p, 16);
}

// The runs of buckets of each slot's socket (`group_index`: its place in the group).
std::vector<Range> bucket_ranges(std::uint32_t slots, std::span<const std::uint32_t> group_index) {
  std::vector<Range> ranges;
  for (std::uint32_t b = 0; b < kAddressBuckets; ++b) {
    const std::uint32_t slot = bucket_slot(b, slots);
    const std::uint32_t s = group_index.empty() ? slot : group_index[slot];
    if (ranges.empty() || ranges.back().slot != s) ranges.push_back({b, s});
  }
  return ranges;
}

}  // namespace

std::vector<BpfInsn> generate_port_spread_program(std::uint32_t slots, std::span<const std::uint32_t> group_index) {
  if (slots == 0) slots = 1;
  if (!group_index.empty() && group_index.size() != slots) return {};
  const std::vector<Range> ranges = bucket_ranges(slots, group_index);
  //  0 ldb [net+0]; 1 rsh 4; 2 jeq 4 → 7; 3 jeq 6 → 5, else 4 ret fallback;
  //  5 ldh [net+40]; 6 ja 8; 7 ldh [net+20] (IPv4 without options); 8 and 1023; the tree.
  std::vector<BpfInsn> p{
      stmt(LD | B | ABS, net(0)),
      stmt(ALU | RSH | K, 4),
      jump(JMP | JEQ | K, 4, 4, 0),
      jump(JMP | JEQ | K, 6, 1, 0),
      stmt(RET | K, kSourceHashFallback),
      stmt(LD | H | ABS, net(40)),
      stmt(JMP | JA, 1),
      stmt(LD | H | ABS, net(20)),
      stmt(ALU | AND | K, kAddressBuckets - 1),
  };
  const std::vector<BpfInsn> decision = tree(ranges, 0, ranges.size());
  p.insert(p.end(), decision.begin(), decision.end());
  if (p.size() > kMaxInsns) return {};
  return p;
}

std::vector<BpfInsn> generate_source_hash_program(std::uint32_t slots, std::span<const std::uint32_t> group_index) {
  if (slots == 0) slots = 1;
  if (!group_index.empty() && group_index.size() != slots) return {};
  const std::vector<Range> ranges = bucket_ranges(slots, group_index);

  std::vector<BpfInsn> p;
  // The layout (forward jumps are patched once their target is placed):
  //  0 ldb [net+0]; 1 rsh 4; 2 jeq 4 → V4; 3 jeq 6 → V6, else 4 ret fallback
  //  V6: three tests for ::ffff:0:0/96, 3 loads; mapped: ld [net+20], ja V4MIX
  //      full: 4 × (ld word, [tax before], mix) then ja FMIX
  //  V4: ld [net+12]; V4MIX: one word's mix; FMIX: fmix32, and 1023, the tree.
  p.push_back(stmt(LD | B | ABS, net(0)));
  p.push_back(stmt(ALU | RSH | K, 4));
  const std::size_t v4_test = p.size();
  p.push_back(jump(JMP | JEQ | K, 4, 0, 0));  // jt patched
  p.push_back(jump(JMP | JEQ | K, 6, 1, 0));
  p.push_back(stmt(RET | K, kSourceHashFallback));
  // V6: is it ::ffff:a.b.c.d?
  std::vector<std::size_t> to_full;  // jf of these: to the full IPv6 mix
  p.push_back(stmt(LD | W | ABS, net(8)));
  to_full.push_back(p.size());
  p.push_back(jump(JMP | JEQ | K, 0, 0, 0));
  p.push_back(stmt(LD | W | ABS, net(12)));
  to_full.push_back(p.size());
  p.push_back(jump(JMP | JEQ | K, 0, 0, 0));
  p.push_back(stmt(LD | W | ABS, net(16)));
  to_full.push_back(p.size());
  p.push_back(jump(JMP | JEQ | K, 0x0000FFFFu, 0, 0));
  p.push_back(stmt(LD | W | ABS, net(20)));
  const std::size_t mapped_ja = p.size();
  p.push_back(stmt(JMP | JA, 0));  // patched: to V4MIX
  const std::size_t full = p.size();
  for (std::size_t j : to_full) p[j].jf = static_cast<std::uint8_t>(full - j - 1);
  for (int word = 0; word < 4; ++word) {
    if (word > 0) p.push_back(stmt(MISC | TAX, 0));
    p.push_back(stmt(LD | W | ABS, net(8 + 4 * word)));
    mix_word(p, word == 0);
  }
  const std::size_t full_ja = p.size();
  p.push_back(stmt(JMP | JA, 0));  // patched: to FMIX
  const std::size_t v4 = p.size();
  p[v4_test].jt = static_cast<std::uint8_t>(v4 - v4_test - 1);
  p.push_back(stmt(LD | W | ABS, net(12)));
  const std::size_t v4mix = p.size();
  p[mapped_ja].k = static_cast<std::uint32_t>(v4mix - mapped_ja - 1);
  mix_word(p, true);
  const std::size_t fmix = p.size();
  p[full_ja].k = static_cast<std::uint32_t>(fmix - full_ja - 1);
  xorshift(p, 16);
  p.push_back(stmt(ALU | MUL | K, kFmixMultiplier1));
  xorshift(p, 13);
  p.push_back(stmt(ALU | MUL | K, kFmixMultiplier2));
  xorshift(p, 16);
  p.push_back(stmt(ALU | AND | K, kAddressBuckets - 1));
  const std::vector<BpfInsn> decision = tree(ranges, 0, ranges.size());
  p.insert(p.end(), decision.begin(), decision.end());
  if (p.size() > kMaxInsns) return {};
  return p;
}

}  // namespace handoff
