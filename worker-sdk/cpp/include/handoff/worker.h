// The C++ worker SDK: an HTTP/1.1 server that takes its connections from the handoff
// supervisor (over Node's IPC channel, NODE_CHANNEL_FD) or, run standalone, from its
// own listening socket. The application supplies one Handler: a synchronous one, or an
// AsyncHandler that answers later through its Responder (with Worker::after, say).
//
// On Windows, an app on an `httpsys` listener gets its requests from its slot's HTTP.SYS
// request queue instead of sockets (welcome.httpsys): the same handlers answer them, and
// HTTP.SYS owns framing and keep-alive (docs/windows.md, "HTTP.SYS mode").
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

#include "protocols/defaults.h"

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
  // Who sent it: the client's address and port as the master saw them (under the
  // supervisor: the source of the PROXY protocol header on a listener that takes one, so
  // the client's and not the load balancer's), else the socket's peer. Textual,
  // "203.0.113.7" or "2001:db8::1"; empty and 0 when unknown.
  std::string remote_address;
  int remote_port = 0;

  // Value of the first header with this name, compared case-insensitively; "" if absent.
  std::string_view header(std::string_view name) const;
};

struct Response {
  int status = 200;
  // Content-Length, Transfer-Encoding and Connection are framing, owned by the SDK: the
  // SDK drops them from here and writes its own. `Connection: close` is honoured.
  std::vector<Header> headers;
  std::string body;
  // Under a supervisor whose app has an output cache (`cache:` in cluster.yaml): the master
  // may answer this request from its cache for this many seconds, as if the response said
  // `Cache-Control: public, max-age=N` (the Node SDK's res.cacheDuration). Nothing is added
  // to what the client gets, and what forbids caching still does (Set-Cookie,
  // Cache-Control private, no-store or no-cache, a Vary beyond Accept-Encoding; a status
  // other than 200, 301, 404). 0: the headers alone decide.
  std::uint32_t cache_seconds = 0;
};

using Handler = std::function<Response(const Request&)>;

// The way to answer one request later. Copyable; the first send() counts, later ones and
// a send() after the connection has gone do nothing. Use it on the worker's thread only
// (from a handler or a Worker::after callback). While a response is awaited, its
// connection reads nothing more and no timeout runs: the handler owns the time.
class Responder {
 public:
  void send(Response response) const;

  struct State;  // the session's side (http_session.cpp)
  explicit Responder(std::weak_ptr<State> state) : state_(std::move(state)) {}

 private:
  std::weak_ptr<State> state_;
};

// The Request is valid only during the call: copy what the answer needs.
using AsyncHandler = std::function<void(const Request&, Responder)>;

struct WorkerInfo {
  bool supervised = false;
  std::string app;
  int slot = 0;  // 1-based when supervised
  int workers = 0;
  int generation = 0;
  std::int64_t pid = 0;  // this process
};

// Caps on what one request, and one connection, may make the worker do. Under the
// supervisor the first three come from the app's `http:` section of cluster.yaml (same
// names), sent in `welcome`; standalone, these values apply.
struct HttpLimits {
  std::size_t max_header_size = defaults::kMaxHeaderSize;  // request line + headers, else 431
  // Decoded body, else 413 (a larger Content-Length: 413 before the body).
  std::size_t max_body_size = defaults::kMaxBodySize;
  // Responses on one connection; the last one says `Connection: close`. 0: no limit.
  std::size_t max_requests_per_socket = defaults::kMaxRequestsPerSocket;
  // Parsing of pipelined requests pauses once this many response bytes wait to be
  // written, so one read of tiny requests cannot produce unbounded output.
  std::size_t max_pending_output = 1024 * 1024;
};

// Timeouts in milliseconds, 0 meaning none. Like the limits, they come from the app's
// `http:` section under the supervisor (keep_alive_timeout, headers_timeout,
// request_timeout), which wins over the program's own values; a program value that differs
// from the SDK default and is replaced is named once on stderr.
struct WorkerOptions {
  std::string host = "127.0.0.1";  // standalone only; env HOST overrides
  int port = 8080;                 // standalone only; env PORT overrides (0: any free port)
  // An idle keep-alive connection (its last response written, no byte of a next request
  // received) is closed quietly after this long. Announced to clients in
  // `Keep-Alive: timeout=<seconds>`. A request in progress never sees this timeout.
  unsigned keep_alive_timeout_ms = defaults::kKeepAliveTimeoutMs;
  // From the first byte of a request (for a connection's first request: from its arrival)
  // until its head is complete, and until the whole request is received: past either, the
  // client gets `408` and the connection closes. A fresh connection that sends nothing is
  // closed quietly at headers_timeout; an idle keep-alive connection never gets a 408.
  unsigned headers_timeout_ms = defaults::kHeadersTimeoutMs;
  unsigned request_timeout_ms = defaults::kRequestTimeoutMs;
  // On SIGTERM/SIGINT or master loss, responses already produced are flushed for at
  // most this long; then every connection is closed.
  unsigned shutdown_timeout_ms = 5'000;
  HttpLimits limits;
  // The app's own metrics, shown on the supervisor's admin /metrics with `app` and `slot`
  // labels: called on the worker's loop at each scrape, it returns the Prometheus text
  // format (0.0.4). Empty: the worker offers none. A loop held longer than the master's
  // 1 s leaves the worker reported as handoff_app_metrics_up 0 for that scrape.
  std::function<std::string()> metrics;
  // With `metrics`: the supervisor adds the slots' samples up (the `app` label alone).
  bool metrics_sum = false;
};

class Worker {
 public:
  explicit Worker(Handler handler, WorkerOptions options = {});
  explicit Worker(AsyncHandler handler, WorkerOptions options = {});
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // Serves until drained (the master's `drain`, the first SIGTERM/SIGINT, or the master
  // gone), a second signal, or the drain's deadline. Returns the process exit code: 0
  // after a stop, non-zero if the worker could not start.
  //
  // Draining, nothing is refused: sockets still arriving (in flight) are served, requests
  // in progress and requests that arrive on fresh connections are answered with
  // `Connection: close`, and keep-alive connections quiet for 100 ms are closed; when the
  // master's drain says `handback` (a successor serves the slot: reload, recycling,
  // scale-down), idle keep-alive connections go back to the master at once instead, so a
  // client's next request is never met by a closing socket. When no connection is left
  // (and the master has acknowledged every socket given back), run() returns. At the
  // deadline (the drain's timeout_ms less a margin, so that the exit is ours and not the
  // master's SIGKILL; shutdown_timeout_ms for a signal or the master's loss) every
  // connection is cut.
  int run();

  // Calls fn once, after ms milliseconds, on the worker's loop. Only while run() runs
  // (from handlers and callbacks); timers still pending when run() returns never fire.
  void after(std::uint64_t ms, std::function<void()> fn);

  // Cheap counters, also reported in the `stats` heartbeat: responses produced since the
  // start, and connections open now.
  std::uint64_t requests() const;
  std::size_t connections() const;

  // Filled from HANDOFF_APP/HANDOFF_SLOT/HANDOFF_WORKERS/HANDOFF_GENERATION at
  // construction, then from the master's `welcome` message; `workers` also from a `route`
  // message (a reload or a scale changed the app's slot count).
  const WorkerInfo& info() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The slot (1-based) that `ip_hash` gives a client address among `workers` (at least 1),
// under master and kernel dispatch alike: "192.0.2.7", "2001:db8::1", "::ffff:192.0.2.7"
// (the same as 192.0.2.7); 0 for text that is no address. What a worker needs to tell
// whether a client is its own (protocols/address_hash.h; the Node SDK's slotForAddress).
int ip_hash_slot(std::string_view address, int workers);

}  // namespace handoff
