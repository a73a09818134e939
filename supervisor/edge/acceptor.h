// Takes connections from a listening socket, each as a Connection with its peer's address
// filled in. Where the platform accepts plain descriptors (POSIX), a poll handle watches
// the socket and accept4 takes what waits: no libuv handle per connection (ClientSocket),
// and no getpeername. Elsewhere (Windows) libuv's uv_listen and uv_accept. libuv edge.
#pragma once

#include <uv.h>

#include <functional>

#include "uvglue/timer.h"
#include "uvglue/uv_handle.h"

#include "supervisor/edge/connection.h"

namespace handoff {

class Acceptor {
 public:
  using OnConnection = std::function<void(ConnectionPtr&&)>;
  using OnError = std::function<void(int uv_error)>;

  Acceptor() = default;
  Acceptor(const Acceptor&) = delete;
  Acceptor& operator=(const Acceptor&) = delete;
  ~Acceptor() { close(); }

  // Listens on `socket` (bound or inherited; listening already is fine) and accepts from
  // it until close(). Returns 0 or a libuv error; either way it holds the socket until
  // close() (a kernel group's member stays in the group even when it cannot be watched).
  int start(UvHandle<uv_tcp_t> socket, int backlog, OnConnection on_connection, OnError on_error);
  // Stops accepting and closes the socket (the poll handle first: it watches the socket's
  // descriptor).
  void close();
  const uv_tcp_t* handle() const { return socket_.get(); }
  explicit operator bool() const { return static_cast<bool>(socket_); }

 private:
  static void readable(uv_poll_t* handle, int status, int events);
  void accept_waiting();
  void accept_with_libuv();
  void pause_after(int uv_error);

  UvHandle<uv_tcp_t> socket_;
  UvHandle<uv_poll_t> poll_;
  uv_os_sock_t listening_ = {};  // socket_'s descriptor, for accept_plain (with poll_)
  Timer pause_;
  OnConnection on_connection_;
  OnError on_error_;
};

}  // namespace handoff
