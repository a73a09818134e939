#include "protocols/address_hash.h"

#include <algorithm>
#include <limits>

#include "protocols/consistent_hash.h"

namespace handoff {
namespace {

std::uint32_t word_at(std::span<const std::byte> bytes, std::size_t i) {  // big-endian, as BPF loads
  return static_cast<std::uint32_t>(bytes[i]) << 24 | static_cast<std::uint32_t>(bytes[i + 1]) << 16 |
         static_cast<std::uint32_t>(bytes[i + 2]) << 8 | static_cast<std::uint32_t>(bytes[i + 3]);
}

bool ipv4_mapped(std::span<const std::byte> a) {
  return a.size() == 16 && word_at(a, 0) == 0 && word_at(a, 4) == 0 && word_at(a, 8) == 0x0000FFFFu;
}

}  // namespace

std::uint32_t address_mix(std::span<const std::byte> address) {
  if (ipv4_mapped(address)) address = address.subspan(12);
  std::uint32_t h = kAddressSeed;
  for (std::size_t i = 0; i + 4 <= address.size(); i += 4) {
    h = (h ^ word_at(address, i)) * kAddressWordMultiplier;
    h ^= h >> 16;
  }
  h ^= h >> 16;
  h *= kFmixMultiplier1;
  h ^= h >> 13;
  h *= kFmixMultiplier2;
  h ^= h >> 16;
  return h;
}

std::uint32_t bucket_slot(std::uint32_t bucket, std::uint32_t slots) { return jump_hash(bucket, std::max(slots, 1u)); }

std::size_t slot_for_address(std::span<const std::byte> address, std::size_t slots) {
  const auto n = static_cast<std::uint32_t>(std::clamp<std::size_t>(slots, 1, std::numeric_limits<std::uint32_t>::max()));
  return bucket_slot(address_bucket(address), n);
}

}  // namespace handoff
