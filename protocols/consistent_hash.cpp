#include "protocols/consistent_hash.h"

#include <xxhash.h>

namespace handoff {

std::uint32_t jump_hash(std::uint64_t key, std::uint32_t buckets) {
  // The published algorithm: a linear congruential walk that jumps forward to the next
  // bucket the key would move to, stopping at the last one below `buckets`.
  std::int64_t bucket = -1;
  std::int64_t next = 0;
  while (next < static_cast<std::int64_t>(buckets)) {
    bucket = next;
    key = key * 2862933555777941757ULL + 1;
    next = static_cast<std::int64_t>(static_cast<double>(bucket + 1) *
                                     (static_cast<double>(1LL << 31) / static_cast<double>((key >> 33) + 1)));
  }
  return static_cast<std::uint32_t>(bucket);
}

std::uint64_t key_hash(std::span<const std::byte> bytes) { return XXH64(bytes.data(), bytes.size(), 0); }
std::uint64_t key_hash(std::string_view key) { return XXH64(key.data(), key.size(), 0); }

}  // namespace handoff
