// The output cache's shared table (docs/cache.md, "C++ workers answer hits too"): the
// entries the master stores, published in a shared segment that C++ SDK workers map
// read-only, so that they answer hits on the keep-alive connections they hold without
// asking anyone. This header is the layout and the only code that touches it; it works on
// any memory (unit tests use a plain buffer), cache_segment.h maps the real thing.
//
// One writer (the master) and readers that take no lock: a worker that stops or dies
// while reading holds nothing the master waits for. Each slot has a sequence counter, odd
// while the master rewrites it; a reader copies the slot and its bytes, then checks that
// the counter did not move. The bytes live in a ring (the arena): an entry is written
// after the last one, wrapping at the end, and every slot whose bytes it overwrites is
// cleared first. A reader checks each offset and length against the arena, so a torn or
// corrupt slot is a miss, never a fault.
//
// The table mirrors what the master stores, not its eviction: an entry the master's LRU
// dropped may still answer here until its lifetime ends (or the ring overwrites it). A
// purge and a roll clear it here too. Readers answer fresh entries only; stale ones are
// the master's (stale_while_revalidate needs its coalescing).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

namespace handoff::cache_table {

inline constexpr std::uint32_t kMagic = 0x31544348;  // "HCT1"
inline constexpr std::uint32_t kVersion = 1;
inline constexpr std::uint32_t kWays = 8;  // the slots a key may sit in (consecutive, one cache line pair)

static_assert(std::atomic<std::uint64_t>::is_always_lock_free, "the cache table needs lock-free 64-bit atomics");

struct Slot {
  std::atomic<std::uint32_t> seq;    // odd while the master rewrites this slot
  std::atomic<std::uint32_t> kind;   // Kind
  std::atomic<std::uint64_t> hash;   // of the key
  std::atomic<std::uint64_t> offset; // into the arena: the key, the head, the body, one after the other
  std::atomic<std::uint32_t> key_bytes;
  std::atomic<std::uint32_t> head_bytes;
  std::atomic<std::uint64_t> body_bytes;
  std::atomic<std::int64_t> stored_ms;   // steady clock (system-wide: CLOCK_MONOTONIC, QPC)
  std::atomic<std::int64_t> expires_ms;
};

enum Kind : std::uint32_t {
  kEmpty = 0,
  kEntry = 1,   // a response
  kVaries = 2,  // a primary key whose responses are kept per Accept-Encoding (no bytes but the key)
};

struct Header {
  std::uint32_t magic;
  std::uint32_t version;
  std::uint32_t slots;  // a power of two, at least kWays
  std::uint32_t reserved;
  std::uint64_t arena_bytes;
};

// The segment's size for an arena of `arena_bytes` (and the slots that suit it).
std::size_t segment_bytes(std::uint64_t arena_bytes);

// The key of an entry: the master's (core/cache/cache_policy.h: lower-cased host, NUL,
// target; NUL and Accept-Encoding for a variant). Here so that workers build the same.
void primary_key(std::string_view host, std::string_view target, std::string& out);
void variant_key(std::string_view primary, std::string_view accept_encoding, std::string& out);

// The master's side. Owns no memory: `memory` (zeroed, as a new mapping is; segment_bytes(arena_bytes) long)
// outlives it. It keeps, in its own heap, where each live entry's bytes are.
class Writer {
 public:
  Writer(void* memory, std::size_t bytes, std::uint64_t arena_bytes);
  bool ok() const { return header_ != nullptr; }

  // Publishes a response under `key` (replacing what the key had). An entry larger than
  // the arena is not published.
  void put(std::string_view key, std::string_view head, std::string_view body, std::int64_t stored_ms,
           std::int64_t expires_ms);
  // Readers of `primary` go on to its variant for their Accept-Encoding.
  void mark_varies(std::string_view primary, std::int64_t expires_ms);
  // Clears every slot whose key's target starts with `prefix` (every slot: empty); how many.
  std::size_t purge(std::string_view prefix);
  void clear() { purge({}); }

 private:
  Slot* find(std::string_view key, std::uint64_t hash);
  Slot* claim(std::string_view key, std::uint64_t hash);  // its slot, an empty one, or the oldest
  void erase(Slot& slot);
  std::uint64_t allocate(std::uint64_t bytes);  // clears what the bytes overwrite
  void publish(Slot& slot, Kind kind, std::uint64_t hash, std::uint64_t offset, std::string_view key,
               std::size_t head_bytes, std::size_t body_bytes, std::int64_t stored_ms, std::int64_t expires_ms);
  std::string_view key_at(const Slot& slot) const;

  Header* header_ = nullptr;
  Slot* slots_ = nullptr;
  char* arena_ = nullptr;
  std::uint64_t write_at_ = 0;
  std::map<std::uint64_t, Slot*> placed_;  // arena offset → the slot whose bytes start there
};

// A fresh entry as a reader copied it.
struct Hit {
  std::string head;  // status line and kept headers, each with its CRLF, no blank line
  std::string body;
  std::int64_t stored_ms = 0;
};

// A worker's side: read-only, lock-free.
class Reader {
 public:
  // Null header when `memory` is not a table of this version.
  Reader(const void* memory, std::size_t bytes);
  bool ok() const { return header_ != nullptr; }
  // The fresh entry for the request's key (its variant when the key varies), or false.
  bool find(std::string_view host, std::string_view target, std::string_view accept_encoding, std::int64_t now_ms,
            Hit& out);

 private:
  enum class Found { none, entry, varies };
  Found read(std::string_view key, std::int64_t now_ms, Hit& out) const;

  const Header* header_ = nullptr;
  const Slot* slots_ = nullptr;
  const char* arena_ = nullptr;
  std::string key_;  // scratch
  std::string variant_;
};

}  // namespace handoff::cache_table
