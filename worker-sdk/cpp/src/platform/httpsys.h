// HTTP.SYS (Windows): receiving requests from a request queue the master duplicated into
// this worker (welcome.httpsys), and answering them. platform/win/httpsys_receiver.cpp;
// platform/posix/httpsys_receiver.cpp only says it is not there.
#pragma once

#include <handoff/worker.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace handoff::platform {

struct HttpSysRequest {
  std::uint64_t id = 0;  // HTTP_REQUEST_ID, to answer it
  Request request;
  bool too_large = false;  // its body exceeds the limit: answered 413, the handler never sees it
};

class HttpSysReceiver {
 public:
  // Starts a thread that receives requests from `queue` (a HANDLE value of this
  // process) and calls on_request with each, on that thread; on_stopped once, on that
  // thread, when it stops receiving (after stop(), or on an error of the queue).
  static std::unique_ptr<HttpSysReceiver> start(std::uint64_t queue, std::size_t max_body,
                                                std::function<void(HttpSysRequest)> on_request,
                                                std::function<void(std::string why)> on_stopped, std::string& error);
  virtual ~HttpSysReceiver() = default;  // stops and waits for the thread
  // Stops receiving: requests not received yet stay in the queue for the next worker.
  virtual void stop() = 0;
  // The whole response in one HttpSendHttpResponse (HTTP.SYS frames it). Any thread.
  // `cache_seconds`: HTTP.SYS's kernel cache may keep it that long (HTTP_CACHE_POLICY,
  // HttpCachePolicyTimeToLive); nothing: no policy. Should HTTP.SYS refuse the policy, the
  // response goes out without it, and so do the next ones (KernelCacheFallback, cache_note.h).
  virtual bool respond(std::uint64_t id, const Response& response, std::optional<std::uint32_t> cache_seconds,
                       std::string& error) = 0;
};

}  // namespace handoff::platform
