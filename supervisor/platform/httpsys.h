// HTTP.SYS request queues (Windows): the master creates one per slot of an app on an
// `httpsys` listener, binds the slot's URL prefix to it, and duplicates it into each
// worker the slot starts. The queue lives as long as the slot, so requests that arrive
// while its worker restarts wait in the kernel instead of failing.
// platform/win/httpsys_queue.cpp; platform/posix/httpsys_queue.cpp says it is not there.
#pragma once

#include <uv.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace handoff::platform {

// Whether this platform has HTTP.SYS; if not, why (for the config check).
bool httpsys_available(std::string& why);

class HttpSysQueue {
 public:
  // A new queue with `prefix` (as "http://+:8080/3/") bound to it. nullptr and a reason
  // on failure (the prefix registered by another process, no permission: `netsh http add
  // urlacl`, HTTP.SYS not running).
  static std::unique_ptr<HttpSysQueue> create(const std::string& prefix, std::string& error);
  virtual ~HttpSysQueue() = default;

  // Duplicates the queue handle into a child process; returns the handle's value there.
  virtual std::optional<std::uint64_t> give_to(const uv_process_t& process, std::string& error) = 0;

  // Removes from HTTP.SYS's kernel response cache what the queue's workers cached (with
  // HTTP_CACHE_POLICY on HttpSendHttpResponse) under `url` and below it
  // (HttpFlushResponseCache, HTTP_FLUSH_RESPONSE_FLAG_RECURSIVE). `unsupported` with the
  // reason where that call cannot be made (wine: an unimplemented stub that would abort
  // the process), `failed` with the error.
  enum class Flush { flushed, unsupported, failed };
  virtual Flush flush_cache(const std::string& url, std::string& error) = 0;
  const std::string& prefix() const { return prefix_; }

 protected:
  explicit HttpSysQueue(std::string prefix) : prefix_(std::move(prefix)) {}

 private:
  std::string prefix_;
};

}  // namespace handoff::platform
