// An app's output cache: entries by key, least recently used first out within max_size,
// each with its lifetime; and the fills under way (request coalescing). Pure: the edge
// (edge/cache_front.h) brings the clock, the requests and the workers' `cache_put`s.
//
// Coalescing: the first miss for a key leads (its connection goes to a worker marked
// `fill`); later misses for that key wait until the worker's `cache_put` (they are hits
// then) or `cache_pass` (they go to workers, and the key passes straight through for
// pass_ttl, Varnish's hit-for-pass), or until lock_timeout (the same as a pass), or until
// the worker dies first (abandon: the next of them leads a new fill). With
// stale_while_revalidate, an entry just past its lifetime still answers them meanwhile.
#pragma once

#include <chrono>
#include <cstdint>
#include <list>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "protocols/ipc_messages.h"
#include "supervisor/core/cache/cache_policy.h"
#include "supervisor/core/config.h"

namespace handoff::cache {

using Clock = std::chrono::steady_clock;

struct Entry {
  std::string key;
  std::string head;  // status line and the kept headers, each line with its CRLF, no blank line
  std::string body;
  Clock::time_point stored;
  Clock::time_point expires;
  std::size_t bytes = 0;  // what it counts against max_size
};

struct Counters {
  std::uint64_t hits = 0;
  std::uint64_t stale = 0;  // of the hits, answered past their lifetime (stale_while_revalidate)
  std::uint64_t misses = 0;
  std::uint64_t stores = 0;
  std::uint64_t evictions = 0;  // for room (expired entries found stale are not counted)
  std::uint64_t entries = 0;
  std::uint64_t bytes = 0;
};

enum class Miss {
  lead,  // the first: to a worker, marked `fill`
  wait,  // a fill for this key is under way: hold it
  pass,  // not held: to a worker (the key passes, or its fill is a different variant)
};

class OutputCache {
 public:
  explicit OutputCache(const CacheConfig& config) : config_(config) {}

  void set_config(const CacheConfig& config);  // a smaller max_size evicts at once
  const CacheConfig& config() const { return config_; }

  // The fresh entry for a request, or null (then miss() says what to do). The entry lives
  // until the next call that changes the cache.
  const Entry* find(const Lookup& request, Clock::time_point now);
  Miss miss(const Lookup& request, Clock::time_point now);

  // A worker's response: stored when decide() says so. Returns the entry stored (it lives
  // until the next call that changes the cache) and whether it ended its primary key's fill
  // (the edge releases what waits for it).
  struct Stored {
    const Entry* entry = nullptr;
    bool varies = false;  // the entry is its primary key's variant for one Accept-Encoding
    bool ended_fill = false;
    std::string primary;
  };
  Stored put(const ipc::CachePut& response, Clock::time_point now);
  // The fill's response was not cacheable: the primary key whose fill it ends (the edge
  // releases what waits for it), or empty when none was under way.
  std::string pass(std::string_view host, std::string_view target, Clock::time_point now);
  // The worker that had the fill died before it answered: the fill ends without a pass
  // (the next miss leads a new one). The primary key, or empty when none was under way.
  std::string abandon(std::string_view host, std::string_view target);
  // Fills past their lock_timeout end as passes; their keys, for the edge.
  std::vector<std::string> expire_fills(Clock::time_point now);
  std::optional<Clock::time_point> next_fill_deadline() const;

  // Removes every entry whose target starts with `prefix` (all: empty); how many went.
  std::size_t purge(std::string_view prefix);
  void clear() { purge({}); }

  const Counters& counters() const { return counters_; }
  static std::int64_t age_seconds(const Entry& e, Clock::time_point now) {
    return std::chrono::duration_cast<std::chrono::seconds>(now - e.stored).count();
  }

 private:
  using Entries = std::list<Entry>;  // most recently used first
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  using Index = std::unordered_map<std::string_view, Entries::iterator, Hash, std::equal_to<>>;

  const std::string& key_of(const Lookup& request);  // into key_, variant when the primary varies
  void erase(Entries::iterator it);
  void make_room(std::size_t bytes);

  CacheConfig config_;
  Entries entries_;
  Index index_;
  std::unordered_set<std::string, Hash, std::equal_to<>> varying_;  // primaries stored per Accept-Encoding
  std::unordered_map<std::string, Clock::time_point, Hash, std::equal_to<>> fills_;   // primary → lock deadline
  std::unordered_map<std::string, Clock::time_point, Hash, std::equal_to<>> passing_;  // primary → until
  Counters counters_;
  std::string primary_;  // scratch keys
  std::string key_;
};

}  // namespace handoff::cache
