// A listening socket the worker accepts from: its own in standalone mode, or the slot's,
// given by the master under kernel dispatch (adopt).
#pragma once

#include "uvglue/uv_handle.h"

#include <functional>
#include <string>

namespace handoff {

class TcpListener {
 public:
  using OnConnection = std::function<void(UvHandle<uv_tcp_t>)>;

  TcpListener(uv_loop_t* loop, OnConnection on_connection);
  TcpListener(const TcpListener&) = delete;
  TcpListener& operator=(const TcpListener&) = delete;

  // Binds and listens. `host` is an IPv4/IPv6 literal or a name resolved once here.
  // Returns a libuv error code.
  int listen(const std::string& host, int port);
  // Accepts from a listening socket the master gave (kernel dispatch), listen()ing again
  // with the listener's backlog (the same queue length). Returns a libuv error code.
  int adopt(UvHandle<uv_tcp_t> tcp, int backlog);
  // The bound port (useful with port 0), or 0 if not listening.
  int port() const;
  void close() { tcp_.reset(); }

 private:
  static void on_connection(uv_stream_t* server, int status);

  uv_loop_t* loop_;
  OnConnection on_connection_;
  UvHandle<uv_tcp_t> tcp_;
};

}  // namespace handoff
