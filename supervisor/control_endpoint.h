// The control endpoint: a local stream where an operator's tool asks the running
// supervisor to `reload` or `stop`, one command per line, answered with one line. It is
// a Unix socket on POSIX and a named pipe (\\.\pipe\NAME) on Windows, where it stands in
// for SIGHUP (Windows has none). libuv's uv_pipe is both, so this file is the same on
// both platforms. Opt-in: `supervisor --control NAME`; `supervisor control NAME reload`
// is the client.
#pragma once

#include <uv.h>

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <handoff/uv_handle.h>

#include "protocols/line_framer.h"

namespace handoff {

// What a command line means; `reply` is the line sent back ("ok" or "error: ...").
enum class ControlCommand { reload, stop, unknown };
ControlCommand parse_control_command(std::string_view line);

class ControlEndpoint {
 public:
  using OnCommand = std::function<void(ControlCommand)>;
  ControlEndpoint();
  ~ControlEndpoint();

  // Binds and listens; returns a libuv error code (UV_EADDRINUSE: another supervisor).
  int open(uv_loop_t* loop, const std::string& name, OnCommand on_command);
  void close();

 private:
  struct Client;
  void accept_one();

  std::string name_;
  OnCommand on_command_;
  UvHandle<uv_pipe_t> server_;
  std::vector<std::unique_ptr<Client>> clients_;
};

// The client side, for `supervisor control NAME COMMAND`: sends the line, prints the
// answer. Returns the process exit code (0 when the supervisor answered "ok").
int run_control_client(const std::string& name, const std::string& command);

}  // namespace handoff
