#include "protocols/cache_table.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <vector>

#include <xxhash.h>

#include "protocols/http_text.h"

namespace handoff::cache_table {
namespace {

constexpr std::size_t kHeaderBytes = 64;  // the header, padded so that the slots start on a cache line
static_assert(sizeof(Header) <= kHeaderBytes);
constexpr std::uint64_t kArenaPerSlot = 1024;  // a slot for each KiB of arena: entries are rarely smaller
constexpr std::uint32_t kMaxSlots = 1u << 22;

std::uint32_t slots_for(std::uint64_t arena_bytes) {
  const std::uint64_t wanted = std::clamp<std::uint64_t>(arena_bytes / kArenaPerSlot, kWays, kMaxSlots);
  return static_cast<std::uint32_t>(std::bit_ceil(wanted));
}

std::uint64_t hash_of(std::string_view key) { return XXH3_64bits(key.data(), key.size()); }

std::uint32_t group_of(std::uint64_t hash, std::uint32_t slots) {
  return static_cast<std::uint32_t>(hash & (slots - 1)) & ~(kWays - 1);
}

std::string_view target_of(std::string_view key) {
  const auto host_end = key.find('\0');
  if (host_end == std::string_view::npos) return {};
  const auto target = key.substr(host_end + 1);
  return target.substr(0, target.find('\0'));
}

// A sequence-counter write: readers that overlap it see the counter move and miss.
template <class Write>
void rewrite(Slot& slot, Write write) {
  const auto seq = slot.seq.load(std::memory_order_relaxed);
  slot.seq.store(seq + 1, std::memory_order_relaxed);
  std::atomic_thread_fence(std::memory_order_release);
  write();
  slot.seq.store(seq + 2, std::memory_order_release);
}

}  // namespace

std::size_t segment_bytes(std::uint64_t arena_bytes) {
  return kHeaderBytes + std::size_t{slots_for(arena_bytes)} * sizeof(Slot) + arena_bytes;
}

void primary_key(std::string_view host, std::string_view target, std::string& out) {
  out.resize(host.size() + 1 + target.size());
  std::transform(host.begin(), host.end(), out.begin(), ascii_lower);
  out[host.size()] = '\0';
  std::copy(target.begin(), target.end(), out.begin() + static_cast<std::ptrdiff_t>(host.size() + 1));
}

void variant_key(std::string_view primary, std::string_view accept_encoding, std::string& out) {
  out.assign(primary);
  out.push_back('\0');
  out.append(accept_encoding);
}

// The writer ------------------------------------------------------------------------------

Writer::Writer(void* memory, std::size_t bytes, std::uint64_t arena_bytes) {
  // Not cleared here: a new mapping is zeroed already, and writing its arena would commit
  // every page of it at once.
  if (bytes < segment_bytes(arena_bytes)) return;
  header_ = static_cast<Header*>(memory);
  header_->magic = kMagic;
  header_->version = kVersion;
  header_->slots = slots_for(arena_bytes);
  header_->arena_bytes = arena_bytes;
  slots_ = reinterpret_cast<Slot*>(static_cast<char*>(memory) + kHeaderBytes);
  arena_ = reinterpret_cast<char*>(slots_ + header_->slots);
}

std::string_view Writer::key_at(const Slot& slot) const {
  return {arena_ + slot.offset.load(std::memory_order_relaxed), slot.key_bytes.load(std::memory_order_relaxed)};
}

Slot* Writer::find(std::string_view key, std::uint64_t hash) {
  Slot* group = slots_ + group_of(hash, header_->slots);
  for (std::uint32_t i = 0; i < kWays; ++i) {
    Slot& s = group[i];
    if (s.kind.load(std::memory_order_relaxed) != kEmpty && s.hash.load(std::memory_order_relaxed) == hash &&
        key_at(s) == key)
      return &s;
  }
  return nullptr;
}

Slot* Writer::claim(std::string_view key, std::uint64_t hash) {
  Slot* slot = find(key, hash);
  if (!slot) {
    Slot* group = slots_ + group_of(hash, header_->slots);
    for (std::uint32_t i = 0; i < kWays && !slot; ++i)
      if (group[i].kind.load(std::memory_order_relaxed) == kEmpty) slot = &group[i];
    if (!slot)  // a full group gives up its oldest
      slot = std::min_element(group, group + kWays, [](const Slot& a, const Slot& b) {
        return a.stored_ms.load(std::memory_order_relaxed) < b.stored_ms.load(std::memory_order_relaxed);
      });
  }
  if (slot->kind.load(std::memory_order_relaxed) != kEmpty) erase(*slot);
  return slot;
}

void Writer::erase(Slot& slot) {
  placed_.erase(slot.offset.load(std::memory_order_relaxed));
  rewrite(slot, [&] { slot.kind.store(kEmpty, std::memory_order_relaxed); });
}

std::uint64_t Writer::allocate(std::uint64_t bytes) {
  if (write_at_ + bytes > header_->arena_bytes) write_at_ = 0;
  const std::uint64_t begin = write_at_;
  const std::uint64_t end = begin + bytes;
  // The entries whose bytes [begin, end) overlaps: the one that starts before it and runs
  // into it, and those that start inside it (entries never overlap each other).
  std::vector<Slot*> overwritten;
  auto it = placed_.lower_bound(begin);
  if (it != placed_.begin()) {
    const Slot& before = *std::prev(it)->second;
    const std::uint64_t before_end = std::prev(it)->first + before.key_bytes.load(std::memory_order_relaxed) +
                                     before.head_bytes.load(std::memory_order_relaxed) +
                                     before.body_bytes.load(std::memory_order_relaxed);
    if (before_end > begin) overwritten.push_back(std::prev(it)->second);
  }
  for (; it != placed_.end() && it->first < end; ++it) overwritten.push_back(it->second);
  for (Slot* s : overwritten) erase(*s);
  write_at_ = end;
  return begin;
}

void Writer::publish(Slot& slot, Kind kind, std::uint64_t hash, std::uint64_t offset, std::string_view key,
                     std::size_t head_bytes, std::size_t body_bytes, std::int64_t stored_ms, std::int64_t expires_ms) {
  rewrite(slot, [&] {
    slot.kind.store(kind, std::memory_order_relaxed);
    slot.hash.store(hash, std::memory_order_relaxed);
    slot.offset.store(offset, std::memory_order_relaxed);
    slot.key_bytes.store(static_cast<std::uint32_t>(key.size()), std::memory_order_relaxed);
    slot.head_bytes.store(static_cast<std::uint32_t>(head_bytes), std::memory_order_relaxed);
    slot.body_bytes.store(body_bytes, std::memory_order_relaxed);
    slot.stored_ms.store(stored_ms, std::memory_order_relaxed);
    slot.expires_ms.store(expires_ms, std::memory_order_relaxed);
  });
  placed_[offset] = &slot;
}

void Writer::put(std::string_view key, std::string_view head, std::string_view body, std::int64_t stored_ms,
                 std::int64_t expires_ms) {
  if (!ok()) return;
  const std::uint64_t bytes = key.size() + head.size() + body.size();
  if (bytes > header_->arena_bytes || key.size() > UINT32_MAX || head.size() > UINT32_MAX) return;
  const std::uint64_t hash = hash_of(key);
  Slot* slot = claim(key, hash);
  const std::uint64_t at = allocate(bytes);
  char* out = arena_ + at;
  std::memcpy(out, key.data(), key.size());
  std::memcpy(out + key.size(), head.data(), head.size());
  std::memcpy(out + key.size() + head.size(), body.data(), body.size());
  publish(*slot, kEntry, hash, at, key, head.size(), body.size(), stored_ms, expires_ms);
}

void Writer::mark_varies(std::string_view primary, std::int64_t stored_ms) {
  if (!ok() || primary.size() > header_->arena_bytes) return;
  const std::uint64_t hash = hash_of(primary);
  Slot* slot = claim(primary, hash);
  const std::uint64_t at = allocate(primary.size());
  std::memcpy(arena_ + at, primary.data(), primary.size());
  publish(*slot, kVaries, hash, at, primary, 0, 0, stored_ms, INT64_MAX);
}

std::size_t Writer::purge(std::string_view prefix) {
  if (!ok()) return 0;
  std::vector<Slot*> gone;
  for (const auto& [offset, slot] : placed_)
    if (target_of(key_at(*slot)).starts_with(prefix)) gone.push_back(slot);
  std::size_t entries = 0;
  for (Slot* s : gone) {
    if (s->kind.load(std::memory_order_relaxed) == kEntry) ++entries;
    erase(*s);
  }
  return entries;
}

// The reader ------------------------------------------------------------------------------

Reader::Reader(const void* memory, std::size_t bytes) {
  if (bytes < kHeaderBytes) return;
  const auto* header = static_cast<const Header*>(memory);
  if (header->magic != kMagic || header->version != kVersion || header->slots < kWays ||
      !std::has_single_bit(header->slots) || header->slots > kMaxSlots ||
      bytes < kHeaderBytes + std::size_t{header->slots} * sizeof(Slot) ||
      header->arena_bytes > bytes - kHeaderBytes - std::size_t{header->slots} * sizeof(Slot))
    return;
  header_ = header;
  slots_ = reinterpret_cast<const Slot*>(static_cast<const char*>(memory) + kHeaderBytes);
  arena_ = reinterpret_cast<const char*>(slots_ + header_->slots);
}

Reader::Found Reader::read(std::string_view key, std::int64_t now_ms, Hit& out) const {
  const std::uint64_t hash = hash_of(key);
  const std::uint64_t arena = header_->arena_bytes;
  const Slot* group = slots_ + group_of(hash, header_->slots);
  for (std::uint32_t i = 0; i < kWays; ++i) {
    const Slot& s = group[i];
    const auto seq = s.seq.load(std::memory_order_acquire);
    if ((seq & 1) != 0 || s.kind.load(std::memory_order_relaxed) == kEmpty ||
        s.hash.load(std::memory_order_relaxed) != hash)
      continue;
    const auto kind = s.kind.load(std::memory_order_relaxed);
    const std::uint64_t offset = s.offset.load(std::memory_order_relaxed);
    const std::uint64_t key_bytes = s.key_bytes.load(std::memory_order_relaxed);
    const std::uint64_t head_bytes = s.head_bytes.load(std::memory_order_relaxed);
    const std::uint64_t body_bytes = s.body_bytes.load(std::memory_order_relaxed);
    // Each part within the arena (checked one at a time: their sum could wrap).
    if (key_bytes != key.size() || offset > arena || key_bytes > arena - offset ||
        head_bytes > arena - offset - key_bytes || body_bytes > arena - offset - key_bytes - head_bytes)
      continue;
    if (std::memcmp(arena_ + offset, key.data(), key.size()) != 0) continue;
    Found found = Found::none;
    if (kind == kVaries) {
      found = Found::varies;
    } else if (kind == kEntry && s.expires_ms.load(std::memory_order_relaxed) > now_ms) {
      out.head.assign(arena_ + offset + key_bytes, head_bytes);
      out.body.assign(arena_ + offset + key_bytes + head_bytes, body_bytes);
      out.stored_ms = s.stored_ms.load(std::memory_order_relaxed);
      found = Found::entry;
    }
    std::atomic_thread_fence(std::memory_order_acquire);
    if (s.seq.load(std::memory_order_relaxed) != seq) return Found::none;  // rewritten meanwhile
    return found;
  }
  return Found::none;
}

bool Reader::find(std::string_view host, std::string_view target, std::string_view accept_encoding,
                  std::int64_t now_ms, Hit& out) {
  if (!ok()) return false;
  primary_key(host, target, key_);
  switch (read(key_, now_ms, out)) {
    case Found::entry: return true;
    case Found::none: return false;
    case Found::varies: break;
  }
  variant_key(key_, accept_encoding, variant_);
  return read(variant_, now_ms, out) == Found::entry;
}

}  // namespace handoff::cache_table
