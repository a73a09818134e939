// An app's output cache at the master's intake (docs/cache.md): answers the requests it
// holds a fresh entry for on the socket itself, holds requests for a key whose fill is with
// a worker, and marks the first miss `fill`. Decisions are core/cache/output_cache.h's;
// here are the sockets and the clock.
//
// A connection it answered, or held, goes back through its listener's intake (`reintake`):
// its next request (keep-alive) or the same one (a held request, released) is classified
// and routed again, and hits again or goes to a worker with the bytes the master has not
// taken.
#pragma once

#include <uv.h>

#include <chrono>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "protocols/cache_segment.h"
#include "protocols/ipc_messages.h"
#include "uvglue/timer.h"
#include "supervisor/core/cache/output_cache.h"
#include "supervisor/core/routing/request_head.h"
#include "supervisor/edge/connection.h"

namespace handoff {

class CacheFront {
 public:
  // `idle_timeout`: how long a keep-alive connection it answered may wait for its next
  // request (the app's http.keep_alive_timeout). `table` (may be null): the shared table it
  // publishes each entry it stores in, for C++ SDK workers (protocols/cache_table.h).
  CacheFront(uv_loop_t* loop, const CacheConfig& config, std::chrono::milliseconds idle_timeout,
             std::unique_ptr<CacheSegment> table);
  ~CacheFront();
  CacheFront(const CacheFront&) = delete;
  CacheFront& operator=(const CacheFront&) = delete;

  void set_config(const CacheConfig& config, std::chrono::milliseconds idle_timeout) {
    cache_.set_config(config);
    idle_timeout_ = idle_timeout;
  }
  // Where answered and released connections go: the master's route through their
  // listener's intake (set once the app is wired; until then they are closed).
  void set_reintake(std::function<void(ConnectionPtr)> reintake) { reintake_ = std::move(reintake); }
  // A request of this app: true when the cache took the connection (answered, or held
  // until its key's fill); false: it goes to a worker (`fill` set when it leads one).
  bool take(ConnectionPtr& connection, const RequestHead& head);
  // A worker's `cache_put` / `cache_pass`.
  void put(const ipc::CachePut& response);
  void pass(const ipc::CachePass& response);
  // The worker that had this fill died before it answered (OutputCache::abandon).
  void abandon(const ipc::CachePass& fill);
  // Entries whose target starts with `prefix` (all: empty) go; how many.
  std::size_t purge(std::string_view prefix);
  const cache::Counters& counters() const { return cache_.counters(); }
  // The shared table's name, for the workers' welcome (empty: none).
  std::string table_name() const { return table_ ? table_->name() : std::string(); }

 private:
  struct Kept;  // a keep-alive connection it answered, waiting for its next request

  // Writes the entry's answer and sends the connection on (kept, reintake, or closed).
  void answer(ConnectionPtr connection, const cache::Entry& entry, const cache::Lookup& request, std::size_t head_bytes);
  // Takes the request's head off the stream and writes what the socket takes at once: the
  // bytes written (answer_size_ when all), or -1 when the client is gone.
  long send_answer(Connection& c, const cache::Entry& entry, const cache::Lookup& request, std::size_t head_bytes);
  void finish_later(ConnectionPtr connection, std::size_t sent, bool keep_alive);  // the rest through libuv
  void go_on(ConnectionPtr connection, bool keep_alive);
  void reintake(ConnectionPtr connection);  // back through its listener's intake
  void keep(ConnectionPtr connection);
  void next_request(Kept& k);  // its socket is readable
  void release_kept(Kept& k);  // to the intake, with what it sent
  void drop_kept(Kept& k);     // closed
  void arm_sweep();
  void release(const std::string& primary);  // what waits for that fill goes back to the intake
  // Into the shared table (`varying_primary`: the entry is that key's variant).
  void publish(const cache::Entry& entry, std::string_view varying_primary);
  void arm_timer();
  const std::string& date(std::chrono::system_clock::time_point now);

  static constexpr std::size_t kMaxHeldPerKey = 4096;
  // Keep-alive connections waiting here at most (more go to the intake), and the longest
  // head looked at here (a longer one is the intake's, with its own max_head).
  static constexpr std::size_t kMaxKept = 16384;
  static constexpr std::size_t kMaxKeptHead = 8192;

  uv_loop_t* loop_;
  cache::OutputCache cache_;
  std::unique_ptr<CacheSegment> table_;
  std::function<void(ConnectionPtr)> reintake_;
  std::map<std::string, std::vector<ConnectionPtr>> waiting_;  // by primary key
  Timer timer_;  // the next fill's lock_timeout
  Timer sweep_;  // closes kept connections idle past idle_timeout_
  std::chrono::milliseconds idle_timeout_;
  bool sweeping_ = false;
  std::list<Kept> kept_;  // least recently active first
  std::string extra_;  // scratch: each answer's Age, Date, Content-Length and Connection lines
  std::string_view pieces_[3];  // the answer being written: head, extra_, body
  std::size_t answer_size_ = 0;
  std::string date_;
  std::chrono::system_clock::time_point date_second_{};
};

}  // namespace handoff
