// One client connection at the libuv edge: socket bytes into an HttpSession, its
// responses out with one writev per batch, timeouts, back-pressure and the close.
#pragma once

#include "worker-sdk/cpp/src/http_session.h"
#include "uvglue/timer.h"
#include "uvglue/uv_handle.h"
#include "uvglue/uv_write.h"
#include <handoff/worker.h>

#include "protocols/ipc_messages.h"

#include <functional>
#include <optional>

namespace handoff {

class Connection {
 public:
  // What a drain needs to know of it (DrainMachine): busy (a request in progress, a
  // response owed or being written, or none served yet), idle (a keep-alive connection
  // between requests, every byte read gone through the session), or detached (going back
  // to the master by the route rule).
  enum class Activity { busy, idle, detached };

  class Owner {
   public:
    // The connection is finished: the owner destroys it (from inside this call).
    virtual void connection_closed(Connection* connection) = 0;
    // n more responses were produced (the `requests` counter of the heartbeat).
    virtual void responses_produced(std::size_t n) = 0;
    // The next request belongs elsewhere and every earlier response is written: the
    // owner sends the socket back to the master (`handback`) and destroys the connection
    // (from inside this call).
    virtual void hand_back(Connection* connection, UvHandle<uv_tcp_t> socket, ipc::Handback message) = 0;
    // n response bytes went to the socket (the scoreboard's `bytes`).
    virtual void bytes_written(std::size_t) {}
    // The connection's activity changed. Busy and detached never make the owner destroy
    // the connection from inside this call; idle may (a draining owner hands it back).
    virtual void activity_changed(Connection*, Activity) {}
    // A message for the master's output cache (a session given a cache offer produces them).
    virtual void cache_note(CacheNote) {}
    // Requests the session answered from the master's shared cache table.
    virtual void table_hits(std::size_t) {}

   protected:
    ~Owner() = default;
  };

  // `conn`: what the master said about the socket (its `head` is read before the socket);
  // `belongs`: the per-request check of a keep-alive connection (none: every request stays).
  // `id`: the owner's name for it (its DrainMachine's). `cache`: the app's output cache
  // (welcome.cache), told of the responses worth keeping (Owner::cache_note).
  Connection(uv_loop_t* loop, UvHandle<uv_tcp_t> tcp, HttpSession::AnyHandler handler, const WorkerOptions& options,
             Owner& owner, std::uint64_t id, ipc::Conn conn = {}, std::function<bool(const Request&)> belongs = {},
             std::optional<ipc::CacheOffer> cache = std::nullopt,
             std::shared_ptr<cache_table::Reader> cache_table = nullptr);
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  ~Connection() = default;

  // Starts serving. May close (and so destroy) the connection if the socket is unusable.
  void start();
  // The worker retires: the request in progress, or the next one, gets the last response
  // (`Connection: close`). When an idle one is closed or handed back is the owner's
  // DrainMachine's decision.
  void drain();
  // An idle connection goes back to the master (Owner::hand_back, an empty head): reading
  // stops first, so whatever its client sends from now on stays in the kernel for the
  // master and the successor. Does nothing unless idle.
  void hand_back_idle();
  // Closes at once; the owner destroys the connection before this returns.
  void close_now();

  std::uint64_t id() const { return id_; }
  Activity activity() const;
  std::uint64_t last_activity() const { return last_activity_; }  // uv_now() of the last read or write

 private:
  // What the timer currently measures; it restarts only when this (or the request) changes,
  // so a peer trickling bytes cannot extend its timeout:
  //   first_request  a fresh connection, no byte yet: headers_timeout, then closed quietly
  //   keep_alive     the last response written, no byte of a next request: closed quietly
  //   head, body     a request in progress: 408 at its headers_timeout / request_timeout,
  //                  both counted from the request's first byte (the first: from arrival)
  //   closing, linger   the ways out (see connection.cpp)
  enum class Wait { nothing, first_request, keep_alive, head, body, closing, linger };

  static void on_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf);
  static void on_write(UvWrite& write, int status);
  static void on_shutdown(uv_shutdown_t* req, int status);
  void on_timer();

  // Called at the end of every callback: writes what the session produced, then
  // decides reading, timer and close. May destroy the connection; callers return.
  void settle();
  void flush();
  void pass_cache_notes();
  void begin_close();
  void hand_back();
  void set_reading(bool on);
  void set_wait(Wait wait, bool restart = false);
  // Tells the owner of a change; the last thing a callback does (idle may destroy this).
  void report(Activity activity);
  std::uint64_t request_deadline_ms(std::uint64_t timeout_ms) const;

  uv_loop_t* loop_;
  UvHandle<uv_tcp_t> tcp_;
  Timer timer_;
  HttpSession session_;
  const WorkerOptions& options_;
  Owner& owner_;
  std::uint64_t id_;
  ipc::Conn conn_;
  std::function<bool(const Request&)> belongs_;
  std::optional<ipc::CacheOffer> cache_;
  std::shared_ptr<cache_table::Reader> cache_table_;  // the master's shared table (welcome.cache.table)

  bool reading_ = false;
  Activity reported_ = Activity::busy;  // what the owner was last told
  bool broken_ = false;  // read or write error: close without ceremony
  bool eof_ = false;     // the peer finished sending
  bool shutdown_started_ = false;
  bool shutdown_done_ = false;
  std::size_t writes_in_flight_ = 0;
  std::size_t counted_ = 0;        // responses already reported to the owner
  std::size_t counted_hits_ = 0;   // of them, answered from the cache table
  std::uint64_t last_activity_ = 0;  // uv_now() of the last read or write
  std::uint64_t request_started_ = 0;  // uv_now() when the current request began
  std::size_t requests_begun_ = 0;     // the session's count when request_started_ was set
  Wait wait_ = Wait::nothing;
};

}  // namespace handoff
