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

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "protocols/ipc_messages.h"
#include "uvglue/timer.h"
#include "supervisor/core/cache/output_cache.h"
#include "supervisor/core/routing/request_head.h"
#include "supervisor/edge/connection.h"

namespace handoff {

class CacheFront {
 public:
  CacheFront(uv_loop_t* loop, const CacheConfig& config);
  ~CacheFront();
  CacheFront(const CacheFront&) = delete;
  CacheFront& operator=(const CacheFront&) = delete;

  void set_config(const CacheConfig& config) { cache_.set_config(config); }
  // Where answered and released connections go: the master's route through their
  // listener's intake (set once the app is wired; until then they are closed).
  void set_reintake(std::function<void(ConnectionPtr)> reintake) { reintake_ = std::move(reintake); }
  // A request of this app: true when the cache took the connection (answered, or held
  // until its key's fill); false: it goes to a worker (`fill` set when it leads one).
  bool take(ConnectionPtr& connection, const RequestHead& head);
  // A worker's `cache_put` / `cache_pass`.
  void put(const ipc::CachePut& response);
  void pass(const ipc::CachePass& response);
  // Entries whose target starts with `prefix` (all: empty) go; how many.
  std::size_t purge(std::string_view prefix);
  const cache::Counters& counters() const { return cache_.counters(); }

 private:
  // Writes the entry's answer and sends the connection on (reintake, or closed).
  void answer(ConnectionPtr connection, const cache::Entry& entry, const cache::Lookup& request, std::size_t head_bytes);
  void release(const std::string& primary);  // what waits for that fill goes back to the intake
  void arm_timer();
  const std::string& date(std::chrono::system_clock::time_point now);

  static constexpr std::size_t kMaxHeldPerKey = 4096;

  cache::OutputCache cache_;
  std::function<void(ConnectionPtr)> reintake_;
  std::map<std::string, std::vector<ConnectionPtr>> waiting_;  // by primary key
  Timer timer_;  // the next fill's lock_timeout
  std::string extra_;  // scratch: each answer's Age, Date, Content-Length and Connection lines
  std::string date_;
  std::chrono::system_clock::time_point date_second_{};
};

}  // namespace handoff
