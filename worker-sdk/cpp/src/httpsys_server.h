// Serving an HTTP.SYS request queue (welcome.httpsys, Windows) with the same handlers as
// sockets: a receive thread (platform/win/httpsys_receiver.cpp) hands each request to the
// loop (uv_async_send); the handler runs there; the answer goes back in one
// HttpSendHttpResponse. HTTP.SYS owns connections, keep-alive and framing.
#pragma once

#include <uv.h>

#include "worker-sdk/cpp/src/http_session.h"
#include "uvglue/uv_handle.h"

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "platform/httpsys.h"
#include "protocols/ipc_messages.h"

namespace handoff {

class HttpSysServer {
 public:
  struct Callbacks {
    std::function<void(std::size_t)> responses;  // answered this many (the `stats` count)
    std::function<void()> idle;                  // stopped receiving and nothing in flight
  };
  HttpSysServer(uv_loop_t* loop, HttpSession::AnyHandler handler, Callbacks callbacks);
  ~HttpSysServer();

  // Starts receiving from the queue; a libuv or platform failure is returned as text.
  // `cache` (welcome.cache): the app has `cache:`, and responses HTTP.SYS's kernel cache
  // may keep go out with a cache policy (kernel_cache_seconds(), cache_note.h).
  bool start(const ipc::HttpSys& queue, std::size_t max_body, std::optional<ipc::CacheOffer> cache,
             std::string& error);
  // Drain: receive no more (what waits in the queue stays there for the next worker);
  // requests in flight are still answered.
  void drain();
  // The deadline: stop receiving and forget requests in flight (HTTP.SYS cancels them
  // when the queue handle closes with the process).
  void stop();
  bool idle() const { return !receiving_ && in_flight_.empty(); }
  std::size_t in_flight() const { return in_flight_.size(); }

 private:
  void on_async();
  void dispatch(platform::HttpSysRequest request);
  // `may_cache`: the request is one HTTP.SYS's cache may answer (kernel_cacheable_request).
  void answer(std::uint64_t id, const Response& response, bool may_cache);

  uv_loop_t* loop_;
  HttpSession::AnyHandler handler_;
  Callbacks callbacks_;
  UvHandle<uv_async_t> wakeup_;
  std::unique_ptr<platform::HttpSysReceiver> receiver_;
  bool receiving_ = false;
  std::string prefix_;
  std::optional<ipc::CacheOffer> cache_;
  // Filled by the receive thread, emptied on the loop.
  std::mutex mutex_;
  std::deque<platform::HttpSysRequest> arrived_;
  bool receiver_stopped_ = false;
  std::string stop_reason_;
  // Requests an AsyncHandler has not answered yet (their Responders reach these).
  std::map<std::uint64_t, std::shared_ptr<Responder::State>> in_flight_;
};

}  // namespace handoff
