// One worker process and its pipes: the IPC channel on fd 3 (Node's json framing,
// handle passing), and stdout/stderr relayed line by line. libuv edge: everything that
// decides what to do with a message lives in Slot.
#pragma once

#include <uv.h>

#include <cstdint>
#include <memory>
#include <deque>
#include <optional>
#include <string>
#include <vector>

#include <handoff/uv_handle.h>

#include "protocols/ipc_messages.h"
#include "protocols/line_framer.h"
#include "supervisor/output_relay.h"

namespace handoff {

struct SpawnSpec {
  std::vector<std::string> argv;  // argv[0] is an absolute path
  std::string cwd;
  std::vector<std::string> env;   // "NAME=value", complete
  std::string app;                // for the log lines of its output
  int slot = 0;
  std::size_t max_message = ipc::kDefaultMaxMessageBytes;
  std::optional<std::uint32_t> uid, gid;  // run as another user (POSIX, supervisor is root)
};

class WorkerProcess {
 public:
  class Observer {
   public:
    virtual void on_message(const ipc::Message& message) = 0;
    // A socket the worker gave back (already ACKed), with its `handback` message.
    virtual void on_handback(UvHandle<uv_tcp_t> socket, const ipc::Handback& message) = 0;
    virtual void on_channel_lost() = 0;  // EOF or error: no more handles can go
    virtual void on_exit(std::int64_t exit_status, int term_signal) = 0;

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

  // Queues one message; with `handle`, libuv sends the socket with it (SCM_RIGHTS on
  // POSIX, WSADuplicateSocket on Windows). Returns a libuv error code, 0 on success.
  int send(const ipc::Message& message, uv_stream_t* handle = nullptr);

  // Delivers a signal; harmless after the process exited.
  void signal(int signum);

 private:
  struct Output {
    UvHandle<uv_pipe_t> pipe;
    std::unique_ptr<LinePrefixer> lines;
  };

  explicit WorkerProcess(Observer& observer, std::size_t max_message);
  static void alloc(uv_handle_t* handle, size_t suggested, uv_buf_t* buf);
  void on_channel_bytes(std::string_view bytes);
  void close_channel();
  void take_handback(const ipc::Handback& message);

  Observer& observer_;
  UvHandle<uv_process_t> process_;
  UvHandle<uv_pipe_t> channel_;
  Output out_, err_;
  ipc::LineFramer framer_;
  // Sockets that arrived on the channel, each waiting for the line it came with.
  std::deque<UvHandle<uv_tcp_t>> received_;
  int pid_ = 0;
  bool exited_ = false;
  bool channel_open_ = false;
  char read_buffer_[64 * 1024];
};

}  // namespace handoff
