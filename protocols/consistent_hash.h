// Key → slot mapping that survives scaling: jump consistent hash (Lamping & Veach,
// "A Fast, Minimal Memory, Consistent Hash Algorithm", 2014). Growing from N to N+1
// buckets moves about 1/(N+1) of the keys, and no key moves between old buckets.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace handoff {

// Bucket in [0, buckets) for a 64-bit key; buckets must be at least 1.
std::uint32_t jump_hash(std::uint64_t key, std::uint32_t buckets);

// XXH64 (seed 0) of the bytes: the key hash of every string and address rule. XXH64
// rather than XXH3 because the Node SDK computes it too, in plain JS.
std::uint64_t key_hash(std::span<const std::byte> bytes);
std::uint64_t key_hash(std::string_view key);

}  // namespace handoff
