// The IPC channel to the master, at the libuv edge: NODE_CHANNEL_FD opened as an ipc
// pipe, its bytes and descriptors fed to ipc::ChannelEnd in the worker's role (framing,
// which line takes which descriptor, ACK/NACK, resending our handles), and its decisions
// carried out here.
#pragma once

#include "protocols/channel_end.h"
#include "uvglue/uv_handle.h"

#include <cstdint>
#include <deque>
#include <functional>
#include <string>

namespace handoff {

class Channel final : ipc::ChannelEnd::Effects {
 public:
  struct Callbacks {
    std::function<void(UvHandle<uv_tcp_t>, const ipc::Conn&)> connection;  // a socket from the master
    // The slot's listening socket (kernel dispatch): the worker accepts from it itself.
    std::function<void(UvHandle<uv_tcp_t>, const ipc::Listen&)> listen;
    // Our handle in flight is settled: taken (ACK), or refused (NACKed again after
    // ipc::kMaxHandleResends resends). Its socket is the caller's again.
    std::function<void(bool taken)> handle_settled;
    std::function<void(const ipc::Welcome&)> welcome;
    std::function<void(const ipc::Route&)> route;  // the app's rule or slot count changed
    std::function<void(const ipc::Drain&)> drain;
    std::function<void(const ipc::Metrics&)> metrics;  // a scrape asks for the app's own metrics
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
  // Queues one line with a socket (SCM_RIGHTS on its first bytes, as uv_write2 sends it),
  // one at a time: false when one is in flight or it cannot be written. The socket must
  // stay open until handle_settled (the master may NACK it: it is sent again).
  bool send_handle(std::string line, uv_stream_t* socket);
  bool handle_in_flight() const { return end_.handle_in_flight(); }
  // Stops reading and closes the pipe. Safe from inside the callbacks; later lines of
  // the read under way find it closed (a handle among them is not ACKed, and the master
  // dispatches it again).
  void close();
  bool is_open() const { return static_cast<bool>(pipe_); }

 private:
  static void on_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf);
  // Writes `line` now (after the answers still waiting, which go first).
  void send_now(std::string line);
  // Written at the end of the loop's pass (a uv_check), or before any other line.
  void flush_answers();
  // Takes every descriptor the last read brought into received_; a reason when one is
  // not a TCP socket (it is closed).
  std::string take_pending(std::size_t& taken);

  // ipc::ChannelEnd::Effects
  bool write(std::string line, std::uint64_t handle) override;
  void write_answer(std::string line) override;
  void message(const ipc::Message& message) override;
  bool take_descriptor(const ipc::Message& message) override;
  void close_descriptor() override;
  void handle_settled(bool taken) override;
  void violation(const std::string& reason) override;
  void ignored(ipc::ChannelEnd::Ignored kind, std::string_view detail) override;

  uv_loop_t* loop_;
  Callbacks callbacks_;
  UvHandle<uv_pipe_t> pipe_;
  ipc::ChannelEnd end_{ipc::Role::worker};
  std::deque<UvHandle<uv_tcp_t>> received_;  // sockets waiting for the line they came with
  std::string answers_;  // ACK/NACK lines of this pass of the loop, not written yet
  UvHandle<uv_check_t> flush_;  // runs flush_answers() after the pass's I/O callbacks
  uv_stream_t* in_flight_ = nullptr;  // the socket of our handle in flight (the caller's)
};

}  // namespace handoff
