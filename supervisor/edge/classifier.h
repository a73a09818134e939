// Reads what the master must know about a connection before choosing its worker: a PROXY
// protocol header (consumed) and the request head (peeked: left in the kernel, so the
// worker reads a pristine socket). libuv edge; the parsing is in routing/request_head.h
// and routing/proxy_protocol.h.
//
// Bounded against slow clients: a head that takes longer than head_timeout gets 408; one
// longer than max_head 431; a malformed one 400; and at most max_classifying connections
// are read at once, the oldest closed first when more arrive.
#pragma once

#include <uv.h>

#include <chrono>
#include <cstddef>
#include <functional>
#include <list>
#include <memory>
#include <string>

#include "uvglue/uv_handle.h"

#include "supervisor/core/config.h"
#include "supervisor/edge/connection.h"
#include "supervisor/core/routing/request_head.h"

namespace handoff {

class Classifier {
 public:
  struct Settings {
    bool proxy_protocol = false;  // consume a PROXY header first
    bool read_head = false;       // then read the request head
    Milliseconds head_timeout{10'000};
    std::size_t max_head = 16 * 1024;
    std::size_t max_classifying = 1024;
  };
  // `head` is null when the listener does not read heads; it lives during the call only.
  using OnClassified = std::function<void(ConnectionPtr, const RequestHead* head)>;
  // Every connection the classifier answers with an error status, for metrics and logs.
  using OnRejected = std::function<void(int status)>;

  Classifier(uv_loop_t* loop, Settings settings, OnClassified on_classified, OnRejected on_rejected = {});
  ~Classifier();
  Classifier(const Classifier&) = delete;
  Classifier& operator=(const Classifier&) = delete;

  void set_settings(const Settings& settings) { settings_ = settings; }
  // Takes the connection until it is classified (or answered and closed).
  void add(ConnectionPtr connection);
  std::size_t size() const { return pending_.size(); }

 private:
  struct Pending {
    ConnectionPtr connection;
    UvHandle<uv_poll_t> poll;
    std::string bytes;      // carried bytes, then what a peek showed after them
    bool proxy_done = false;
    bool reading = false;   // read mode: the bytes are taken and carried (connection->carried)
    bool ended = false;     // read mode: the client sent its end of stream
    bool read_started = false;
    std::chrono::steady_clock::time_point deadline;
    Classifier* owner = nullptr;
    std::list<Pending>::iterator self;
  };

  enum class Progress { done, wait, finished };

  void step(Pending& p, bool peer_closed);  // reads what is there and decides, or waits for more
  void step_reading(Pending& p);             // the same where the platform cannot peek
  void judge_head(Pending& p, std::string_view bytes, bool ended, std::size_t seen);
  Progress read_proxy_header(Pending& p, bool peer_closed);
  void watch(Pending& p);                    // wake when more bytes (or the peer's close) arrive
  void finish(Pending& p, const RequestHead* head);
  void fail(Pending& p, int status);         // 0: close without an answer
  std::list<Pending> take(Pending& p);       // out of the list, no longer watched
  void arm_timer();

  uv_loop_t* loop_;
  // Peek (leave the bytes in the kernel) where the platform can; otherwise read them and
  // carry them with the handle. HANDOFF_CLASSIFY_BY_READING=1 forces reading, to test
  // on Linux the path Windows takes.
  bool peek_;
  Settings settings_;
  OnClassified on_classified_;
  OnRejected on_rejected_;
  std::list<Pending> pending_;  // oldest first: deadlines and eviction both follow it
  UvHandle<uv_timer_t> timer_;
};

}  // namespace handoff
