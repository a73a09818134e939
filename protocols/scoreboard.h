// The scoreboard: one shared-memory segment per supervisor, one record per slot, read by
// `supervisor status`, `supervisor top` and the admin endpoint without asking the master.
// This header is the layout and the only functions that touch it; they work on any
// memory (unit tests use a plain buffer), scoreboard_segment.h maps the real thing.
//
// Who writes what (each field has one writer, so no field needs a lock):
//   master   in_use, app, slot, pid, generation, state, started_ms, restarts, last_exit,
//            handed_off, queued, rss, cpu_ms, cpu_milli, rate_milli, kernel_queued, kernel_backlog,
//            kernel_strangers, stranger_pid, cache_*; and, for workers that do not write
//            their own (Node, plain programs), connections, requests, heartbeat_ms;
//   worker   a C++ SDK worker whose generation is the record's `generation` adds to
//            connections, requests, bytes and worker_cache_hits and stamps heartbeat_ms itself (relaxed
//            atomics, no lock on the request path) and sets self_reported to its
//            generation, so the master stops writing those fields for it.
// The master sets `generation` to the slot's current worker (at its start, or when a
// replacement takes over) and then zeroes the worker's counters: a worker being drained
// sees another generation there and stops writing. Text fields (app, last_exit) are
// guarded by a sequence counter: readers retry while it is odd or changed.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "protocols/slot_state.h"

namespace handoff::scoreboard {

inline constexpr std::uint32_t kMagic = 0x31425348;  // "HSB1"
// 2: the master's build in the header; 3: CPU; 4: kernel dispatch's accept queue and strangers;
// 5: the output cache's counters; 6: the hits C++ workers answer from the cache's shared table
inline constexpr std::uint32_t kVersion = 6;
inline constexpr std::uint32_t kCapacity = 4096;  // records per segment; slots beyond are not shown
inline constexpr std::size_t kAppBytes = 64;
inline constexpr std::size_t kExitBytes = 96;

// Environment variables a worker finds its record with.
inline constexpr const char* kSegmentEnv = "HANDOFF_SCOREBOARD";
inline constexpr const char* kRecordEnv = "HANDOFF_SCOREBOARD_RECORD";

static_assert(std::atomic<std::uint64_t>::is_always_lock_free, "the scoreboard needs lock-free 64-bit atomics");
static_assert(std::atomic<std::int64_t>::is_always_lock_free);

struct Record {
  std::atomic<std::uint32_t> text_seq;  // odd while the master rewrites app or last_exit
  std::atomic<std::uint32_t> in_use;
  std::atomic<char> app[kAppBytes];
  std::atomic<char> last_exit[kExitBytes];
  std::atomic<std::uint32_t> slot;
  std::atomic<std::uint32_t> generation;
  std::atomic<std::uint32_t> state;          // a SlotState (slot_state.h)
  std::atomic<std::uint32_t> self_reported;  // generation of the worker writing its own counters
  std::atomic<std::int64_t> pid;
  std::atomic<std::int64_t> started_ms;    // Unix time in ms when the current worker started
  std::atomic<std::uint64_t> restarts;
  std::atomic<std::uint64_t> handed_off;   // connections the slot's workers have acknowledged
  std::atomic<std::uint64_t> queued;       // connections waiting for the slot now
  std::atomic<std::uint64_t> rss;          // bytes
  std::atomic<std::uint64_t> cpu_ms;       // CPU time of the current worker (user + system)
  std::atomic<std::uint64_t> cpu_milli;    // its CPU use over the master's last second, in 1/1000 of a core
  std::atomic<std::uint64_t> rate_milli;   // requests per second × 1000, over the master's last second
  std::atomic<std::uint64_t> connections;  // open now in the current worker
  std::atomic<std::uint64_t> requests;     // completed by the current worker
  std::atomic<std::uint64_t> bytes;        // response bytes written by the current worker
  std::atomic<std::int64_t> heartbeat_ms;  // Unix time in ms of its last heartbeat
  // Kernel dispatch (written by the master each second; 0 under master dispatch): the
  // slot's own listening socket's accept queue, as the kernel counts it (connections
  // there are the worker's to accept: `queued` never sees them), and its backlog.
  std::atomic<std::uint64_t> kernel_queued;
  std::atomic<std::uint64_t> kernel_backlog;
  // Listening sockets of the same address that are not the master's (another process in
  // the SO_REUSEPORT group, taking a share of the connections); the same on every slot of
  // the app. stranger_pid: the process holding the first of them, 0 if not found.
  std::atomic<std::uint64_t> kernel_strangers;
  std::atomic<std::int64_t> stranger_pid;
  // The app's output cache (written by the master each second; the same on every slot of
  // the app, all 0 without a cache): lookups answered and not, entries and their bytes.
  std::atomic<std::uint64_t> cache_hits;
  std::atomic<std::uint64_t> cache_misses;
  std::atomic<std::uint64_t> cache_entries;
  std::atomic<std::uint64_t> cache_bytes;
  // Requests the slot's current C++ SDK worker answered from the cache's shared table
  // (written by that worker, as its requests).
  std::atomic<std::uint64_t> worker_cache_hits;
};

struct Header {
  std::uint32_t magic;
  std::uint32_t version;
  std::uint32_t capacity;
  std::uint32_t record_size;
  std::atomic<std::int64_t> master_pid;
  std::atomic<std::int64_t> started_ms;
  // The master's own CPU and memory, as the records' (written every second).
  std::atomic<std::uint64_t> master_cpu_ms;
  std::atomic<std::uint64_t> master_cpu_milli;
  std::atomic<std::uint64_t> master_rss;
  // The master's build (protocols/build_info.h), NUL-terminated: what `status` reports,
  // which may differ from the build of the binary that reads it after an upgrade.
  char master_version[24];
  char master_commit[24];
};

// A master's build as its header records it.
struct Build {
  std::string version, commit;
};
Build master_build(const Header& header);

// A process's CPU and memory as the scoreboard shows them.
struct Usage {
  double cpu_seconds = 0;  // CPU time since it started
  double cpu = 0;          // cores in use over the last second (1.0: one core busy)
  std::uint64_t rss = 0;   // bytes
};
Usage master_usage(const Header& header);
void set_master_usage(Header& header, std::uint64_t cpu_ms, std::uint64_t cpu_milli, std::uint64_t rss);

// Bytes a segment of `capacity` records needs.
std::size_t segment_bytes(std::uint32_t capacity = kCapacity);

// Lays out an empty scoreboard in `memory` (zeroed, at least segment_bytes long).
Header* format(void* memory, std::size_t bytes, std::uint32_t capacity, std::int64_t master_pid, std::int64_t now_ms);

// The header if `memory` holds a scoreboard of this version that fits in `bytes`.
Header* validate(void* memory, std::size_t bytes);
const Header* validate(const void* memory, std::size_t bytes);

Record* record(Header* header, std::uint32_t index);
const Record* record(const Header* header, std::uint32_t index);

// ---- The master's side ----------------------------------------------------------------

// A free record for (app, slot), marked in use and cleared; nullopt when full.
std::optional<std::uint32_t> allocate(Header* header, std::string_view app, std::uint32_t slot);
void release(Record& record);

// A new current worker for the record: its pid, generation and start; the counters the
// worker reports start again from zero.
void begin_worker(Record& record, std::int64_t pid, std::uint32_t generation, std::int64_t started_ms);
void set_last_exit(Record& record, std::string_view text);

// Stats from a worker that does not write its own record (Node's `stats` message).
void report_stats(Record& record, std::uint32_t generation, std::uint64_t requests, std::uint64_t connections,
                  std::uint64_t bytes, std::int64_t now_ms);

// ---- The worker's side ----------------------------------------------------------------

// Whether the record is the one of (app, slot): a worker checks before it writes anything.
bool describes(const Record& record, std::string_view app, std::uint32_t slot);

// Whether the worker of `generation` is the record's current one (and so may write).
inline bool owns(const Record& r, std::uint32_t generation) {
  return r.generation.load(std::memory_order_relaxed) == generation;
}

// A worker's own counting: adds `delta` to one of its counters while it owns the record,
// and marks the record self-reported so that the master stops writing them from `stats`.
inline void add(Record& r, std::atomic<std::uint64_t> Record::*counter, std::uint32_t generation, std::int64_t delta) {
  if (!owns(r, generation)) return;
  if (r.self_reported.load(std::memory_order_relaxed) != generation)
    r.self_reported.store(generation, std::memory_order_relaxed);
  (r.*counter).fetch_add(static_cast<std::uint64_t>(delta), std::memory_order_relaxed);
}
void heartbeat(Record& record, std::uint32_t generation, std::int64_t now_ms);

// ---- Reading --------------------------------------------------------------------------

struct Snapshot {
  std::uint32_t index = 0;
  std::string app;
  std::uint32_t slot = 0;
  std::int64_t pid = 0;
  std::uint32_t generation = 0;
  SlotState state = SlotState::free;
  std::int64_t started_ms = 0;
  std::uint64_t restarts = 0;
  std::string last_exit;
  std::uint64_t handed_off = 0;
  std::uint64_t queued = 0;
  std::uint64_t rss = 0;
  double cpu_seconds = 0;  // of the current worker
  double cpu = 0;          // cores it used over the master's last second
  double requests_per_second = 0;
  std::uint64_t connections = 0;
  std::uint64_t requests = 0;
  std::uint64_t bytes = 0;
  std::int64_t heartbeat_ms = 0;
  std::uint64_t kernel_queued = 0;
  std::uint64_t kernel_backlog = 0;  // 0: the slot has no kernel queue (master dispatch)
  std::uint64_t kernel_strangers = 0;
  std::int64_t stranger_pid = 0;
  std::uint64_t cache_hits = 0;
  std::uint64_t cache_misses = 0;
  std::uint64_t cache_entries = 0;
  std::uint64_t cache_bytes = 0;
  std::uint64_t worker_cache_hits = 0;
};

Snapshot read(const Record& record, std::uint32_t index);

// Every record in use, ordered by app then slot.
std::vector<Snapshot> read_all(const Header& header);

}  // namespace handoff::scoreboard
