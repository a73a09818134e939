// A listening TCP socket: accepts (Acceptor), numbers each connection and passes it on.
// libuv edge.
#pragma once

#include <uv.h>

#include <functional>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "uvglue/uv_handle.h"

#include "supervisor/core/config.h"
#include "supervisor/edge/acceptor.h"
#include "supervisor/edge/connection.h"

namespace handoff {

class Listener {
 public:
  using OnConnection = std::function<void(ConnectionPtr&&)>;

  // Binds and listens, or listens on an `inherited` socket already bound to the address
  // (LISTEN_FDS). Returns a libuv error code (e.g. UV_EADDRINUSE); 0 on success.
  int open(uv_loop_t* loop, const ListenerConfig& config, OnConnection on_connection,
           std::optional<std::intptr_t> inherited = std::nullopt);
  // Kernel dispatch: holds `socket` (bound with SO_REUSEPORT, not listening) for the
  // address without accepting; the slots' own sockets take the connections. Its config
  // stays, for connections handed back on it. Returns a libuv error code.
  int hold(uv_loop_t* loop, const ListenerConfig& config, std::intptr_t socket);
  void close() {
    acceptor_.close();
    held_.reset();
  }
  const ListenerConfig& config() const { return config_; }
  const uv_tcp_t* handle() const { return held_ ? held_.get() : acceptor_.handle(); }

 private:
  ListenerConfig config_;  // a copy: a reload replaces the Config it came from
  OnConnection on_connection_;
  Acceptor acceptor_;
  UvHandle<uv_tcp_t> held_;  // kernel dispatch: the address held, not accepted from
  std::uint64_t next_id_ = 1;
  bool name_plain_ = false;  // the name goes into a `conn` line as it is (checked once)
};

}  // namespace handoff
