// One worker process and its pipes: the IPC channel on fd 3 (Node's json framing,
// handle passing), and stdout/stderr relayed line by line. libuv edge: the channel's
// protocol is ipc::ChannelEnd's (the master's role), what to do with a message Slot's.
#pragma once

#include <uv.h>

#include <cstdint>
#include <memory>
#include <deque>
#include <optional>
#include <string>
#include <vector>

#include "uvglue/uv_handle.h"

#include "protocols/channel_end.h"
#include "supervisor/edge/client_socket.h"
#include "protocols/ipc_messages.h"
#include "supervisor/edge/output_relay.h"
#include "supervisor/platform/worker_group.h"

namespace handoff {

struct SpawnSpec {
  std::vector<std::string> argv;  // argv[0] is an absolute path
  std::string cwd;
  std::vector<std::string> env;   // "NAME=value", complete
  std::string app;                // for the log lines of its output
  int slot = 0;
  std::size_t max_message = ipc::kDefaultMaxMessageBytes;
  std::optional<std::uint32_t> uid, gid;  // run as another user (POSIX, supervisor is root)
  platform::WorkerGuard* guard = nullptr;  // kills the worker's group if the master dies
};

class WorkerProcess final : ipc::ChannelEnd::Effects {
 public:
  class Observer {
   public:
    virtual void on_message(const ipc::Message& message) = 0;
    // A socket the worker gave back (ACKed right after), with its `handback` message.
    virtual void on_handback(UvHandle<uv_tcp_t> socket, const ipc::Handback& message) = 0;
    // The oldest handle in flight (send_handle) was taken: ACKed.
    virtual void on_handle_taken() = 0;
    // ... refused: NACKed again after ipc::kMaxHandleResends resends.
    virtual void on_handle_refused() = 0;
    virtual void on_channel_lost() = 0;  // EOF or error: no more handles can go
    // The worker broke the channel's protocol (a descriptor that is not a connected TCP
    // socket, several at once, one without its message, NACKs without end). The channel
    // is no longer read; the worker must be killed.
    virtual void on_protocol_violation(const std::string& reason) = 0;
    virtual void on_exit(std::int64_t exit_status, int term_signal) = 0;
    // A line of its stdout or stderr, after it went to the log.
    virtual void on_output(std::string_view line) = 0;

   protected:
    ~Observer() = default;
  };

  // Returns nullptr and a reason when the process cannot be created.
  static std::unique_ptr<WorkerProcess> spawn(uv_loop_t* loop, const SpawnSpec& spec, Observer& observer,
                                               std::string& error);
  ~WorkerProcess();
  WorkerProcess(const WorkerProcess&) = delete;
  WorkerProcess& operator=(const WorkerProcess&) = delete;

  int pid() const { return pid_; }
  const uv_process_t& process() const { return *process_.get(); }
  bool exited() const { return exited_; }
  bool channel_open() const { return channel_open_; }

  // Queues one message. Returns a libuv error code, 0 on success.
  int send(const ipc::Message& message);
  // Sends an encoded handle line (ipc::encode_conn, or a `listen`) with `socket`, which libuv sends with
  // it (SCM_RIGHTS on POSIX, WSADuplicateSocket on Windows): one at a time, or as many as
  // the worker's window (set_window), each until its on_handle_taken or on_handle_refused
  // (UV_EBUSY while the window is full); answers come in the order handles went. A NACK
  // sends both again (a window of 1); `socket` must stay open until then, or until the
  // process exits. Returns a libuv error code.
  int send_handle(std::string_view line, ClientSocket& socket);
  int send_handle(std::string_view line, uv_stream_t* socket);  // a libuv handle's (a slot's listening socket)
  // The same for a connection: its `conn` line is encoded into this process's own buffer
  // (the hand-off path allocates nothing for it).
  int send_connection(const ipc::ConnView& conn, ClientSocket& socket) {
    return send_handle(ipc::encode_conn(conn, line_buffer_), socket);
  }
  // The worker's `hello` asked to take several handles before it answers.
  void set_window(int window) { end_.set_window(window); }
  std::size_t handles_in_flight() const { return end_.handles_in_flight(); }

  // Delivers a signal to the worker's process group; harmless after the process exited.
  void signal(int signum);

 private:
  // The socket of a handle in flight (the slot's): a client's, or a libuv handle's.
  struct InFlight {
    ClientSocket* client = nullptr;
    uv_stream_t* stream = nullptr;
    explicit operator bool() const { return client || stream; }
  };
  struct Output {
    UvHandle<uv_pipe_t> pipe;
    std::unique_ptr<LinePrefixer> lines;
  };

  explicit WorkerProcess(Observer& observer, std::size_t max_message);
  static void alloc(uv_handle_t* handle, size_t suggested, uv_buf_t* buf);
  void on_channel_bytes(std::string_view bytes);
  // Takes every descriptor that came with the last read into received_; a reason when one
  // is not a connected TCP socket (that one is closed).
  std::optional<std::string> take_pending(std::size_t& taken);
  void close_channel();
  // Queues `line`; with a ChannelEnd handle number, with `socket`. A libuv error code.
  int write_line(std::string_view line, std::uint64_t handle, InFlight socket);
  int send_in_flight(std::string_view line, InFlight socket);
  // A handle line written at once with its socket: bytes written, 0 if the channel has no
  // room now, or a libuv error.
  long try_send_with(InFlight socket, std::string_view line);

  // ipc::ChannelEnd::Effects
  bool write(std::string line, std::uint64_t handle) override;
  void message(const ipc::Message& message) override { observer_.on_message(message); }
  bool take_descriptor(const ipc::Message& message) override;
  void close_descriptor() override;
  void handle_settled(bool taken) override;
  void violation(const std::string& reason) override;
  void ignored(ipc::ChannelEnd::Ignored kind, std::string_view detail) override;

  Observer& observer_;
  UvHandle<uv_process_t> process_;
  UvHandle<uv_pipe_t> channel_;
  Output out_, err_;
  ipc::ChannelEnd end_;
  // Sockets that arrived on the channel, each waiting for the line it came with.
  std::deque<UvHandle<uv_tcp_t>> received_;
  std::deque<InFlight> in_flight_;  // the sockets of the handles in flight, oldest first
  platform::WorkerGuard* guard_ = nullptr;
  int pid_ = 0;
  bool exited_ = false;
  bool channel_open_ = false;
  char read_buffer_[64 * 1024];
  std::string line_buffer_;  // send_connection()'s lines, one after the other
};

}  // namespace handoff
