// The control socket: a Unix domain socket (mode 0600, and the peer's uid checked with
// SO_PEERCRED) taking one control_protocol request per connection. libuv edge; what a
// command does is the Handler's (the master's) business, except that after the answer to
// `logs` with follow the connection stays open for the log's lines (LogFollowers).
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "supervisor/core/control/control_protocol.h"
#include "supervisor/edge/log_follower.h"
#include "supervisor/edge/short_server.h"

namespace handoff {

class ControlServer {
 public:
  class Handler {
   public:
    // Answers a request given later: safe to keep and call once, at any time; it does
    // nothing when the client has gone.
    using Later = std::function<void(const control::Reply&)>;
    // The answer to send; `after` (if set) runs once the answer is written, for commands
    // that end the loop or take time (stop, reload). nullopt: the handler kept `later`
    // and answers through it (a reload waiting for its roll).
    virtual std::optional<control::Reply> handle(const control::Request& request, std::function<void()>& after,
                                                 const Later& later) = 0;

   protected:
    ~Handler() = default;
  };

  ControlServer(uv_loop_t* loop, Handler& handler);
  ~ControlServer();
  // Removes a stale socket file at `path` (the caller has made sure no master serves it),
  // binds, and listens. A libuv error code, 0 on success.
  int listen(const std::string& path);
  void close();  // and unlinks the file
  // Who may connect: "0600", or on Windows the named pipe's DACL in SDDL.
  std::string access() const { return server_.pipe_access(); }
  // Users besides the supervisor's own allowed to connect (the user it drops to).
  void allow_uid(std::uint32_t uid) { allowed_extra_ = uid; }

 private:
  Handler& handler_;
  LogFollowers followers_;  // before server_: its sessions add to it
  ShortServer server_;
  std::string path_;
  std::optional<std::uint32_t> allowed_extra_;
};

}  // namespace handoff
