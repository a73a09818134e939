#include "supervisor/edge/worker_process.h"

#include <cstdio>
#include <memory>
#include <variant>

#include "supervisor/edge/log.h"
#include "uvglue/uv_write.h"
#include "supervisor/platform/platform.h"

namespace handoff {

WorkerProcess::WorkerProcess(Observer& observer, std::size_t max_message)
    : observer_(observer), end_(ipc::Role::master, max_message) {}

WorkerProcess::~WorkerProcess() = default;  // UvHandle members close their handles

std::unique_ptr<WorkerProcess> WorkerProcess::spawn(uv_loop_t* loop, const SpawnSpec& spec, Observer& observer,
                                                    std::string& error) {
  std::unique_ptr<WorkerProcess> self(new WorkerProcess(observer, spec.max_message));
  auto init_pipe = [&](UvHandle<uv_pipe_t>& pipe, int ipc) {
    pipe = UvHandle<uv_pipe_t>::make();
    uv_pipe_init(loop, pipe.get(), ipc);
    pipe.mark_initialized();
    pipe->data = self.get();
  };
  init_pipe(self->channel_, 1);
  init_pipe(self->out_.pipe, 0);
  init_pipe(self->err_.pipe, 0);
  // The observer outlives the process's pipes (the slot keeps exited processes until
  // their output is relayed), and `observer` is a reference that stays valid.
  auto tap = [&observer](std::string_view line) { observer.on_output(line); };
  self->out_.lines = std::make_unique<LinePrefixer>(spec.app, spec.slot, "stdout", tap);
  self->err_.lines = std::make_unique<LinePrefixer>(spec.app, spec.slot, "stderr", tap);

  std::vector<char*> argv;
  for (const auto& a : spec.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  std::vector<char*> env;
  for (const auto& e : spec.env) env.push_back(const_cast<char*>(e.c_str()));
  env.push_back(nullptr);

  // fd 0 is /dev/null; 1 and 2 come back to us; 3 is the IPC channel, as Node's fork()
  // sets it up. libuv creates every pipe close-on-exec on our side, so no worker
  // inherits another's channel or our listening sockets.
  uv_stdio_container_t stdio[4];
  stdio[0].flags = UV_IGNORE;
  stdio[1].flags = static_cast<uv_stdio_flags>(UV_CREATE_PIPE | UV_WRITABLE_PIPE);
  stdio[1].data.stream = self->out_.pipe.stream();
  stdio[2].flags = static_cast<uv_stdio_flags>(UV_CREATE_PIPE | UV_WRITABLE_PIPE);
  stdio[2].data.stream = self->err_.pipe.stream();
  stdio[3].flags = static_cast<uv_stdio_flags>(UV_CREATE_PIPE | UV_READABLE_PIPE | UV_WRITABLE_PIPE);
  stdio[3].data.stream = self->channel_.stream();

  uv_process_options_t options{};
  options.file = argv[0];
  options.args = argv.data();
  options.env = env.data();
  options.cwd = spec.cwd.c_str();
  options.stdio = stdio;
  options.stdio_count = 4;
  options.flags = UV_PROCESS_WINDOWS_HIDE | platform::worker_spawn_flags();
  if (spec.uid) {
    options.flags |= UV_PROCESS_SETUID;
    options.uid = static_cast<uv_uid_t>(*spec.uid);
  }
  if (spec.gid) {
    options.flags |= UV_PROCESS_SETGID;
    options.gid = static_cast<uv_gid_t>(*spec.gid);
  }
  options.exit_cb = [](uv_process_t* p, int64_t status, int term_signal) {
    auto* me = static_cast<WorkerProcess*>(p->data);
    if (!me) return;
    me->exited_ = true;
    // No answer will come for the handle in flight; the slot keeps its socket.
    me->end_.abandon_handle();
    me->in_flight_.clear();
    // What the worker started dies with it (an app behind `npm start` or `sh -c`).
    platform::kill_worker_remains(me->pid_);
    if (me->guard_) me->guard_->forget(me->pid_);
    me->observer_.on_exit(status, term_signal);  // may destroy `me`: touch nothing after
  };

  self->process_ = UvHandle<uv_process_t>::make();
  const int rc = uv_spawn(loop, self->process_.get(), &options);
  // uv_spawn initializes the handle even when it fails; it must be closed either way.
  self->process_.mark_initialized();
  if (rc != 0) {
    error = platform::spawn_error(rc);
    return nullptr;
  }
  self->process_->data = self.get();
  self->pid_ = self->process_->pid;
  self->guard_ = spec.guard;
  if (self->guard_) self->guard_->watch(self->pid_);
  self->out_.lines->set_pid(self->pid_);
  self->err_.lines->set_pid(self->pid_);
  self->channel_open_ = true;

  uv_read_start(self->channel_.stream(), alloc, [](uv_stream_t* s, ssize_t n, const uv_buf_t* buf) {
    auto* me = static_cast<WorkerProcess*>(s->data);
    if (!me) return;
    if (n > 0) me->on_channel_bytes({buf->base, static_cast<size_t>(n)});
    else if (n < 0) me->close_channel();
  });
  auto relay = [](uv_stream_t* s, ssize_t n, const uv_buf_t* buf) {
    auto* me = static_cast<WorkerProcess*>(s->data);
    if (!me) return;
    auto& output = s == me->out_.pipe.stream() ? me->out_ : me->err_;
    if (n > 0) output.lines->feed({buf->base, static_cast<size_t>(n)});
    else if (n < 0) {
      output.lines->flush();
      uv_read_stop(s);
    }
  };
  uv_read_start(self->out_.pipe.stream(), alloc, relay);
  uv_read_start(self->err_.pipe.stream(), alloc, relay);
  return self;
}

void WorkerProcess::alloc(uv_handle_t* handle, size_t, uv_buf_t* buf) {
  // One buffer per process is enough: libuv reads one stream at a time and each read
  // callback consumes the bytes before returning.
  auto* me = static_cast<WorkerProcess*>(handle->data);
  static char discard[256];
  if (!me) {
    *buf = uv_buf_init(discard, sizeof discard);
    return;
  }
  *buf = uv_buf_init(me->read_buffer_, sizeof me->read_buffer_);
}

void WorkerProcess::on_channel_bytes(std::string_view bytes) {
  if (end_.broken()) return;
  // The usual read (ACKs) brings no descriptor: nothing to take.
  if (uv_pipe_pending_count(channel_.get()) == 0) return end_.feed(bytes, 0, *this);
  std::size_t taken = 0;
  const auto unusable = take_pending(taken);
  end_.feed(bytes, taken, *this, unusable ? std::string_view(*unusable) : std::string_view());
}

std::optional<std::string> WorkerProcess::take_pending(std::size_t& taken) {
  std::optional<std::string> unusable;
  // Each uv_accept takes one descriptor off the pending list, even when it fails, so the
  // loop ends; the bound is for a libuv that would not.
  for (int guard = 0; guard < 1024 && uv_pipe_pending_count(channel_.get()) > 0; ++guard) {
    const uv_handle_type type = uv_pipe_pending_type(channel_.get());
    auto socket = UvHandle<uv_tcp_t>::make();
    uv_tcp_init(channel_->loop, socket.get());
    socket.mark_initialized();
    if (uv_accept(channel_.stream(), socket.stream()) != 0) {
      unusable = "a descriptor the master could not take";
      continue;
    }
    if (type != UV_TCP) {
      unusable = std::string("a descriptor that is not a TCP socket (") + uv_handle_type_name(type) + ")";
      continue;
    }
    if (platform::is_listening(platform::socket_of(socket.get()))) {
      unusable = "a listening socket";
      continue;
    }
    received_.push_back(std::move(socket));
    ++taken;
  }
  return unusable;
}

bool WorkerProcess::take_descriptor(const ipc::Message& message) {
  if (received_.empty()) return false;
  auto socket = std::move(received_.front());
  received_.pop_front();
  observer_.on_handback(std::move(socket), std::get<ipc::Handback>(message));
  return true;
}

void WorkerProcess::close_descriptor() {
  if (!received_.empty()) received_.pop_front();
}

void WorkerProcess::handle_settled(bool taken) {
  if (!in_flight_.empty()) in_flight_.pop_front();
  if (taken) observer_.on_handle_taken();
  else observer_.on_handle_refused();
}

void WorkerProcess::violation(const std::string& reason) {
  received_.clear();  // closes them
  log_line("pid " + std::to_string(pid_) + " broke the channel protocol: " + reason);
  observer_.on_protocol_violation(reason);
  close_channel();
}

void WorkerProcess::ignored(ipc::ChannelEnd::Ignored kind, std::string_view detail) {
  using Ignored = ipc::ChannelEnd::Ignored;
  const std::string pid = "pid " + std::to_string(pid_);
  if (kind == Ignored::malformed) log_line(pid + " sent a malformed message (" + std::string(detail) + "); ignored");
  if (kind == Ignored::oversize)
    log_line(pid + " sent a message of " + std::string(detail) + " bytes, over the limit of " +
             std::to_string(end_.max_line()) + "; dropped");
  // Unknown messages are a newer worker's: ignored quietly. (`descriptor` is the worker role's.)
}

void WorkerProcess::close_channel() {
  if (!channel_open_) return;
  channel_open_ = false;
  uv_read_stop(channel_.stream());
  observer_.on_channel_lost();
}

int WorkerProcess::send(const ipc::Message& message) {
  if (!channel_open_) return UV_EPIPE;
  return write_line(ipc::encode(message), 0, InFlight{});
}

int WorkerProcess::send_handle(std::string_view line, ClientSocket& socket) {
  return send_in_flight(line, {.client = &socket});
}

int WorkerProcess::send_handle(std::string_view line, uv_stream_t* socket) {
  return send_in_flight(line, {.stream = socket});
}

int WorkerProcess::send_in_flight(std::string_view line, InFlight socket) {
  if (!channel_open_) return UV_EPIPE;
  const std::uint64_t handle = end_.begin_handle();
  if (handle == 0) return UV_EBUSY;
  in_flight_.push_back(socket);
  if (const int rc = write_line(line, handle, socket); rc != 0) {
    // Not sent (the dispatcher keeps the connection); those before it stay in flight.
    end_.cancel_handle();
    in_flight_.pop_back();
    return rc;
  }
  return 0;
}

bool WorkerProcess::write(std::string line, std::uint64_t handle) {
  // A handle line here is a resend (a window of 1): the one socket in flight.
  if (!channel_open_ || (handle != 0 && in_flight_.empty())) return false;
  return write_line(line, handle, handle ? in_flight_.front() : InFlight{}) == 0;
}

int WorkerProcess::write_line(std::string_view line, std::uint64_t handle, InFlight socket) {
  // Nearly every line goes out at once (a socketpair with room): written here, with no
  // request to allocate, no callback and no pass of the loop (callgrind: the hand-off path).
  // An error (EPIPE: the worker shut its end) is left to the queued write below, whose
  // callback loses the channel as it always did. Only a line that must wait is copied.
  const long now = socket ? try_send_with(socket, line) : UvWrite::try_now(channel_.stream(), line, nullptr);
  if (now > 0) {
    // A handle line's bytes stay with its channel end until the answer, for a resend: the
    // answer cannot come before the rest of the line below has gone.
    if (handle != 0) end_.written(handle, line, *this);
    if (static_cast<std::size_t>(now) == line.size()) return 0;
    line.remove_prefix(static_cast<std::size_t>(now));  // its descriptor went with the first bytes
    handle = 0;
    socket = {};
  }
  auto write = std::make_unique<UvWrite>(std::string(line));
  write->tag = handle;
  auto done = [](UvWrite& w, int status) {
    // The stream's `data` is cleared before it closes: a write cancelled by the close
    // finds no process to tell.
    auto* me = static_cast<WorkerProcess*>(w.stream()->data);
    if (!me) return;
    // A handle line's bytes stay with its channel end until the answer, for a resend.
    if (w.tag != 0 && status == 0) me->end_.written(w.tag, w.take_bytes(), *me);
    // EPIPE or worse: the worker can take no more messages (its end is closed, or shut
    // for reading while it still writes). Lost like a channel at EOF.
    if (status < 0 && status != UV_ECANCELED) me->close_channel();
  };
  uv_stream_t* send = socket.client ? socket.client->stream() : socket.stream;
  if (socket && !send) return UV_EBADF;  // libuv cannot adopt it: the dispatcher keeps it
  return UvWrite::start(std::move(write), channel_.stream(), done, send);
}

long WorkerProcess::try_send_with(InFlight socket, std::string_view line) {
  // A plain descriptor goes out with sendmsg itself, as uv_try_write2 would send a
  // handle's, when nothing of ours waits in libuv's queue before it (order).
  if (socket.client && !socket.client->has_handle() && channel_->write_queue_size == 0) {
    const long n = platform::send_with_socket(channel_.get(), line, socket.client->descriptor());
    if (n != UV_ENOSYS) return n;
  }
  uv_stream_t* stream = socket.client ? socket.client->stream() : socket.stream;
  return stream ? UvWrite::try_now(channel_.stream(), line, stream) : UV_EBADF;
}

void WorkerProcess::signal(int signum) {
  if (!exited_ && process_) platform::signal_worker(process_.get(), signum);
}

}  // namespace handoff
