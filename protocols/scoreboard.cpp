#include "protocols/scoreboard.h"

#include "protocols/build_info.h"

#include <algorithm>
#include <cstring>
#include <new>

namespace handoff::scoreboard {
namespace {

std::size_t header_bytes() { return (sizeof(Header) + alignof(Record) - 1) / alignof(Record) * alignof(Record); }

template <std::size_t N>
void store_text(std::atomic<char> (&field)[N], std::string_view text) {
  const std::size_t n = std::min(text.size(), N - 1);
  for (std::size_t i = 0; i < n; ++i) field[i].store(text[i], std::memory_order_relaxed);
  for (std::size_t i = n; i < N; ++i) field[i].store('\0', std::memory_order_relaxed);
}

template <std::size_t N>
std::string load_text(const std::atomic<char> (&field)[N]) {
  std::string out;
  for (std::size_t i = 0; i < N; ++i) {
    const char c = field[i].load(std::memory_order_relaxed);
    if (c == '\0') break;
    out.push_back(c);
  }
  return out;
}

// Seqlock around the text fields: the master alone writes them.
template <class Fn>
void write_text(Record& r, Fn fn) {
  r.text_seq.fetch_add(1, std::memory_order_acq_rel);
  std::atomic_thread_fence(std::memory_order_release);
  fn();
  r.text_seq.fetch_add(1, std::memory_order_release);
}

void clear_counters(Record& r) {
  r.self_reported.store(0, std::memory_order_relaxed);
  r.connections.store(0, std::memory_order_relaxed);
  r.requests.store(0, std::memory_order_relaxed);
  r.bytes.store(0, std::memory_order_relaxed);
  r.worker_cache_hits.store(0, std::memory_order_relaxed);
  r.heartbeat_ms.store(0, std::memory_order_relaxed);
  r.rate_milli.store(0, std::memory_order_relaxed);
  r.cpu_ms.store(0, std::memory_order_relaxed);
  r.cpu_milli.store(0, std::memory_order_relaxed);
}

}  // namespace

Build master_build(const Header& h) {
  auto text = [](const char* field, std::size_t size) { return std::string(field, strnlen(field, size)); };
  return {text(h.master_version, sizeof h.master_version), text(h.master_commit, sizeof h.master_commit)};
}

Usage master_usage(const Header& h) {
  return {static_cast<double>(h.master_cpu_ms.load(std::memory_order_relaxed)) / 1000.0,
          static_cast<double>(h.master_cpu_milli.load(std::memory_order_relaxed)) / 1000.0,
          h.master_rss.load(std::memory_order_relaxed)};
}

void set_master_usage(Header& h, std::uint64_t cpu_ms, std::uint64_t cpu_milli, std::uint64_t rss) {
  h.master_cpu_ms.store(cpu_ms, std::memory_order_relaxed);
  h.master_cpu_milli.store(cpu_milli, std::memory_order_relaxed);
  h.master_rss.store(rss, std::memory_order_relaxed);
}

std::size_t segment_bytes(std::uint32_t capacity) { return header_bytes() + std::size_t{capacity} * sizeof(Record); }

Header* format(void* memory, std::size_t bytes, std::uint32_t capacity, std::int64_t master_pid, std::int64_t now_ms) {
  if (bytes < segment_bytes(capacity)) return nullptr;
  std::memset(memory, 0, segment_bytes(capacity));
  auto* h = new (memory) Header{};
  h->magic = kMagic;
  h->version = kVersion;
  h->capacity = capacity;
  h->record_size = sizeof(Record);
  h->master_pid.store(master_pid);
  h->started_ms.store(now_ms);
  build::kVersion.copy(h->master_version, sizeof h->master_version - 1);
  build::kCommit.copy(h->master_commit, sizeof h->master_commit - 1);
  auto* records = static_cast<std::byte*>(memory) + header_bytes();
  for (std::uint32_t i = 0; i < capacity; ++i) new (records + i * sizeof(Record)) Record{};
  return h;
}

Header* validate(void* memory, std::size_t bytes) {
  if (!memory || bytes < sizeof(Header)) return nullptr;
  auto* h = static_cast<Header*>(memory);
  if (h->magic != kMagic || h->version != kVersion || h->record_size != sizeof(Record)) return nullptr;
  if (bytes < segment_bytes(h->capacity)) return nullptr;
  return h;
}

const Header* validate(const void* memory, std::size_t bytes) { return validate(const_cast<void*>(memory), bytes); }

Record* record(Header* header, std::uint32_t index) {
  if (index >= header->capacity) return nullptr;
  auto* records = reinterpret_cast<std::byte*>(header) + header_bytes();
  return std::launder(reinterpret_cast<Record*>(records + index * sizeof(Record)));
}

const Record* record(const Header* header, std::uint32_t index) { return record(const_cast<Header*>(header), index); }

std::optional<std::uint32_t> allocate(Header* header, std::string_view app, std::uint32_t slot) {
  for (std::uint32_t i = 0; i < header->capacity; ++i) {
    Record& r = *record(header, i);
    if (r.in_use.load(std::memory_order_relaxed) != 0) continue;
    write_text(r, [&] {
      store_text(r.app, app);
      store_text(r.last_exit, "");
    });
    r.slot.store(slot, std::memory_order_relaxed);
    r.generation.store(0, std::memory_order_relaxed);
    r.state.store(static_cast<std::uint32_t>(SlotState::stopped), std::memory_order_relaxed);
    r.pid.store(0, std::memory_order_relaxed);
    r.started_ms.store(0, std::memory_order_relaxed);
    r.restarts.store(0, std::memory_order_relaxed);
    r.handed_off.store(0, std::memory_order_relaxed);
    r.queued.store(0, std::memory_order_relaxed);
    r.rss.store(0, std::memory_order_relaxed);
    r.kernel_queued.store(0, std::memory_order_relaxed);
    r.kernel_backlog.store(0, std::memory_order_relaxed);
    r.kernel_strangers.store(0, std::memory_order_relaxed);
    r.stranger_pid.store(0, std::memory_order_relaxed);
    for (auto* cache : {&r.cache_hits, &r.cache_misses, &r.cache_entries, &r.cache_bytes})
      cache->store(0, std::memory_order_relaxed);
    clear_counters(r);
    r.in_use.store(1, std::memory_order_release);
    return i;
  }
  return std::nullopt;
}

void release(Record& r) {
  r.state.store(static_cast<std::uint32_t>(SlotState::free), std::memory_order_relaxed);
  r.generation.store(0, std::memory_order_relaxed);
  r.in_use.store(0, std::memory_order_release);
}

void begin_worker(Record& r, std::int64_t pid, std::uint32_t generation, std::int64_t started_ms) {
  // Generation first: a draining worker stops writing before the counters are zeroed.
  r.generation.store(generation, std::memory_order_release);
  clear_counters(r);
  r.pid.store(pid, std::memory_order_relaxed);
  r.started_ms.store(started_ms, std::memory_order_relaxed);
}

void set_last_exit(Record& r, std::string_view text) {
  write_text(r, [&] { store_text(r.last_exit, text); });
}

void report_stats(Record& r, std::uint32_t generation, std::uint64_t requests, std::uint64_t connections,
                  std::uint64_t bytes, std::int64_t now_ms) {
  if (!owns(r, generation) || r.self_reported.load(std::memory_order_relaxed) == generation) return;
  r.requests.store(requests, std::memory_order_relaxed);
  r.connections.store(connections, std::memory_order_relaxed);
  r.bytes.store(bytes, std::memory_order_relaxed);
  r.heartbeat_ms.store(now_ms, std::memory_order_relaxed);
}

bool describes(const Record& r, std::string_view app, std::uint32_t slot) {
  if (r.in_use.load(std::memory_order_acquire) == 0 || r.slot.load(std::memory_order_relaxed) != slot) return false;
  return load_text(r.app) == app.substr(0, kAppBytes - 1);
}

void heartbeat(Record& r, std::uint32_t generation, std::int64_t now_ms) {
  if (owns(r, generation)) r.heartbeat_ms.store(now_ms, std::memory_order_relaxed);
}

Snapshot read(const Record& r, std::uint32_t index) {
  Snapshot s;
  s.index = index;
  for (int attempt = 0; attempt < 100; ++attempt) {
    const std::uint32_t before = r.text_seq.load(std::memory_order_acquire);
    if (before % 2 != 0) continue;
    s.app = load_text(r.app);
    s.last_exit = load_text(r.last_exit);
    std::atomic_thread_fence(std::memory_order_acquire);
    if (r.text_seq.load(std::memory_order_relaxed) == before) break;
  }
  s.slot = r.slot.load(std::memory_order_relaxed);
  s.pid = r.pid.load(std::memory_order_relaxed);
  s.generation = r.generation.load(std::memory_order_relaxed);
  const auto state = r.state.load(std::memory_order_relaxed);
  s.state = state <= static_cast<std::uint32_t>(kLastSlotState) ? static_cast<SlotState>(state) : SlotState::free;
  s.started_ms = r.started_ms.load(std::memory_order_relaxed);
  s.restarts = r.restarts.load(std::memory_order_relaxed);
  s.handed_off = r.handed_off.load(std::memory_order_relaxed);
  s.queued = r.queued.load(std::memory_order_relaxed);
  s.rss = r.rss.load(std::memory_order_relaxed);
  s.cpu_seconds = static_cast<double>(r.cpu_ms.load(std::memory_order_relaxed)) / 1000.0;
  s.cpu = static_cast<double>(r.cpu_milli.load(std::memory_order_relaxed)) / 1000.0;
  s.requests_per_second = static_cast<double>(r.rate_milli.load(std::memory_order_relaxed)) / 1000.0;
  s.connections = r.connections.load(std::memory_order_relaxed);
  s.requests = r.requests.load(std::memory_order_relaxed);
  s.bytes = r.bytes.load(std::memory_order_relaxed);
  s.heartbeat_ms = r.heartbeat_ms.load(std::memory_order_relaxed);
  s.kernel_queued = r.kernel_queued.load(std::memory_order_relaxed);
  s.kernel_backlog = r.kernel_backlog.load(std::memory_order_relaxed);
  s.kernel_strangers = r.kernel_strangers.load(std::memory_order_relaxed);
  s.stranger_pid = r.stranger_pid.load(std::memory_order_relaxed);
  s.cache_hits = r.cache_hits.load(std::memory_order_relaxed);
  s.cache_misses = r.cache_misses.load(std::memory_order_relaxed);
  s.cache_entries = r.cache_entries.load(std::memory_order_relaxed);
  s.cache_bytes = r.cache_bytes.load(std::memory_order_relaxed);
  s.worker_cache_hits = r.worker_cache_hits.load(std::memory_order_relaxed);
  return s;
}

std::vector<Snapshot> read_all(const Header& header) {
  std::vector<Snapshot> out;
  for (std::uint32_t i = 0; i < header.capacity; ++i) {
    const Record& r = *record(&header, i);
    if (r.in_use.load(std::memory_order_acquire) == 0) continue;
    out.push_back(read(r, i));
  }
  std::sort(out.begin(), out.end(), [](const Snapshot& a, const Snapshot& b) {
    return a.app != b.app ? a.app < b.app : a.slot != b.slot ? a.slot < b.slot : a.index < b.index;
  });
  return out;
}

}  // namespace handoff::scoreboard
