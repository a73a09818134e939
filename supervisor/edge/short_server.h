// A server for short exchanges: accept, read one request (bounded in size and time),
// write one answer, close. The control socket and the admin HTTP endpoint are both this;
// what a request means is the Session's business. libuv edge.
#pragma once

#include <uv.h>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "uvglue/uv_handle.h"

namespace handoff {

class ShortServer {
 public:
  class Session {
   public:
    virtual ~Session() = default;
    // More bytes of the request. An answer ends the exchange: it is written, then the
    // connection closes. nullopt: keep reading.
    virtual std::optional<std::string> feed(std::string_view bytes) = 0;
    // The answer when the request is over max_request bytes, or the client went quiet.
    virtual std::string too_large() = 0;
    virtual std::string timed_out() { return {}; }
    // After the answer has been written (or could not be): actions that must not race it.
    virtual void answered() {}
    // Answers later, after feed() returned nullopt (set by the server when it accepts the
    // session; never call it from inside feed()). Ignored once the exchange has ended.
    std::function<void(std::string)> answer_later;
  };
  // A session for a new connection (`fd` is its descriptor, for credentials checks).
  using Accept = std::function<std::unique_ptr<Session>(std::intptr_t fd)>;

  struct Limits {
    std::size_t max_request = 64 * 1024;
    std::chrono::milliseconds timeout{10'000};
  };

  ShortServer(uv_loop_t* loop, Limits limits, Accept accept);
  ~ShortServer();
  ShortServer(const ShortServer&) = delete;
  ShortServer& operator=(const ShortServer&) = delete;

  // Binds and listens; a libuv error code, 0 on success. A pipe is made reachable by this
  // user only (file mode 0600, or the named pipe's DACL on Windows) before listen().
  int listen_tcp(const std::string& host, int port);
  int listen_pipe(const std::string& path);
  // A TCP port bound by the OS (for port 0).
  int bound_port() const;
  // Who may connect to the pipe (platform::local_endpoint_access), for the log.
  std::string pipe_access() const;
  void close();

  struct Connection;

 private:
  void on_connection();
  void finish(Connection* c, std::string answer);
  void drop(Connection* c);

  uv_loop_t* loop_;
  Limits limits_;
  Accept accept_;
  UvHandle<uv_tcp_t> tcp_;
  std::string pipe_path_;
  UvHandle<uv_pipe_t> pipe_;
  uv_stream_t* server_ = nullptr;
  std::set<Connection*> connections_;
};

}  // namespace handoff
