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
  struct Connection;
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
    // A session that streams after its answer (`supervisor logs --follow`) takes the
    // connection once the answer is written: pipes only; it is not closed then.
    virtual bool keeps_connection() const { return false; }
    virtual void take_connection(UvHandle<uv_pipe_t> pipe) { (void)pipe; }

   protected:
    // For an answer that comes later (a reload waiting for its roll, a /metrics scrape
    // waiting for the workers): called from feed(),
    // which returns nullopt. The request's timeout stops; answer_later() ends the
    // exchange. A client that hangs up meanwhile ends the session (it is destroyed).
    void hold();
    void answer_later(std::string answer);

   private:
    friend class ShortServer;
    Connection* connection_ = nullptr;  // null once the answer is on its way
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
