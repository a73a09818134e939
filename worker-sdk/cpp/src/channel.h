// The IPC channel to the master, at the libuv edge: NODE_CHANNEL_FD opened as an ipc
// pipe, lines fed to ChannelProtocol, sockets received with their NODE_HANDLE lines.
#pragma once

#include "worker-sdk/cpp/src/channel_protocol.h"
#include "uvglue/uv_handle.h"

#include <functional>
#include <string>

namespace handoff {

class Channel final : ChannelProtocol::Events {
 public:
  struct Callbacks {
    std::function<void(UvHandle<uv_tcp_t>, const ipc::Conn&)> connection;  // a socket from the master
    std::function<void(bool acknowledged)> handle_answered;  // ACK or NACK of our last handle
    std::function<void(const ipc::Welcome&)> welcome;
    std::function<void(const ipc::Route&)> route;  // the app's rule or slot count changed
    std::function<void(const ipc::Drain&)> drain;
    std::function<void()> closed;  // EOF or error: the master is gone
  };

  Channel(uv_loop_t* loop, Callbacks callbacks);
  ~Channel() = default;
  Channel(const Channel&) = delete;
  Channel& operator=(const Channel&) = delete;

  // Opens the inherited descriptor and starts reading. Returns a libuv error code.
  int open(int fd);
  // Queues one encoded line; dropped silently once the channel is closed.
  void send_line(std::string line);
  // Queues one line with a socket (SCM_RIGHTS on its first bytes, as uv_write2 sends it).
  // The socket stays open here until the master's answer; returns a libuv error code.
  int send_handle(std::string line, uv_stream_t* socket);
  // Stops reading and closes the pipe. Safe from inside the callbacks; later lines of
  // the read under way find it closed (a handle among them is not ACKed, and the master
  // dispatches it again).
  void close();
  bool is_open() const { return static_cast<bool>(pipe_); }

 private:
  static void on_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf);

  // ChannelProtocol::Events
  bool take_handle(const ipc::Conn& conn) override;
  void discard_handle() override;
  void welcome(const ipc::Welcome& w) override;
  void drain(const ipc::Drain& d) override;
  void route(const ipc::Route& r) override;
  void handle_answered(bool acknowledged) override;
  void send(std::string line) override { send_line(std::move(line)); }
  void log(std::string_view what) override;

  uv_loop_t* loop_;
  Callbacks callbacks_;
  UvHandle<uv_pipe_t> pipe_;
  ChannelProtocol protocol_;
};

}  // namespace handoff
