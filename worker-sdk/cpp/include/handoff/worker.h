// The C++ worker SDK: an HTTP/1.1 server that takes its connections from the handoff
// supervisor (over Node's IPC channel, NODE_CHANNEL_FD) or, run standalone, from its
// own listening socket. The application supplies one synchronous Handler.
//
// This header is free of libuv and llhttp so applications need neither to build.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace handoff {

struct Header {
  std::string name, value;
};

struct Request {
  std::string method;  // "GET", "POST", ...
  std::string target;  // as sent: "/path?query"
  int http_major = 1, http_minor = 1;
  std::vector<Header> headers;  // in arrival order, names as sent
  std::string body;             // decoded (chunked framing removed)

  // Value of the first header with this name, compared case-insensitively; "" if absent.
  std::string_view header(std::string_view name) const;
};

struct Response {
  int status = 200;
  // Content-Length, Transfer-Encoding and Connection are framing, owned by the SDK: the
  // SDK drops them from here and writes its own. `Connection: close` is honoured.
  std::vector<Header> headers;
  std::string body;
};

using Handler = std::function<Response(const Request&)>;

struct WorkerInfo {
  bool supervised = false;
  std::string app;
  int slot = 0;  // 1-based when supervised
  int workers = 0;
  int generation = 0;
  std::int64_t pid = 0;  // this process
};

// Caps on what one request may make the worker buffer.
struct HttpLimits {
  std::size_t max_head_bytes = 64 * 1024;         // request line + headers, else 431
  std::size_t max_body_bytes = 16 * 1024 * 1024;  // decoded body, else 413
  // Parsing of pipelined requests pauses once this many response bytes wait to be
  // written, so one read of tiny requests cannot produce unbounded output.
  std::size_t max_pending_output = 1024 * 1024;
};

struct WorkerOptions {
  std::string host = "127.0.0.1";  // standalone only; env HOST overrides
  int port = 8080;                 // standalone only; env PORT overrides (0: any free port)
  // An idle keep-alive connection is closed after this long without a new request,
  // separately from the request timeout (a started request not finished: 408).
  unsigned keep_alive_timeout_ms = 5'000;
  unsigned request_timeout_ms = 30'000;
  // On SIGTERM/SIGINT or master loss, responses already produced are flushed for at
  // most this long; then every connection is closed.
  unsigned shutdown_timeout_ms = 5'000;
  HttpLimits limits;
};

class Worker {
 public:
  explicit Worker(Handler handler, WorkerOptions options = {});
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // Serves until SIGTERM/SIGINT, or until the master closes the channel. Returns the
  // process exit code: 0 after a clean stop, non-zero if the worker could not start.
  int run();

  // Filled from HANDOFF_APP/HANDOFF_SLOT/HANDOFF_WORKERS/HANDOFF_GENERATION at
  // construction, then from the master's `welcome` message.
  const WorkerInfo& info() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace handoff
