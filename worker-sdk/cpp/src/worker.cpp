#include <handoff/worker.h>

#include "channel.h"
#include "connection.h"
#include "environment.h"
#include "platform/platform.h"
#include "tcp_listener.h"

#include <cstdio>
#include <unordered_map>
#include <vector>

namespace handoff {

struct Worker::Impl final : Connection::Owner {
  Impl(Handler h, WorkerOptions o) : handler(std::move(h)), options(std::move(o)) { read_environment(); }

  Handler handler;
  WorkerOptions options;
  WorkerInfo info;
  std::optional<int> channel_fd;  // supervised when set

  uv_loop_t loop{};
  std::unique_ptr<Channel> channel;
  std::unique_ptr<TcpListener> listener;
  UvHandle<uv_signal_t> sigterm, sigint;
  UvHandle<uv_timer_t> deadline;
  std::unordered_map<Connection*, std::unique_ptr<Connection>> connections;
  bool stopping = false;

  void read_environment();
  int run();
  int start_supervised();
  int start_standalone();
  int watch_signal(UvHandle<uv_signal_t>& handle, int signum);
  void serve(UvHandle<uv_tcp_t> tcp);
  void stop();
  void stop_now();
  void finish_if_done();
  void connection_closed(Connection* connection) override;
  template <class Fn>
  void for_each_connection(Fn fn);
};

void Worker::Impl::read_environment() {
  // Node's child does the same: the channel belongs to this process alone, and a
  // grandchild that inherited the variables would try to open a descriptor it lacks.
  if (auto fd = get_env("NODE_CHANNEL_FD")) {
    channel_fd = parse_int(*fd).value_or(-1);
    // Checked now, before the loop opens descriptors of its own that a wrong number
    // could name.
    if (*channel_fd < 0 || uv_guess_handle(*channel_fd) != UV_NAMED_PIPE) {
      std::fprintf(stderr, "handoff worker: NODE_CHANNEL_FD=%s is not an open pipe or socket\n", fd->c_str());
      channel_fd = -1;
    }
  }
  if (auto mode = get_env("NODE_CHANNEL_SERIALIZATION_MODE"); mode && *mode != "json") {
    std::fprintf(stderr, "handoff worker: NODE_CHANNEL_SERIALIZATION_MODE=%s is not supported, only json\n",
                 mode->c_str());
    channel_fd = -1;  // run() refuses to start
  }
  unset_env("NODE_CHANNEL_FD");
  unset_env("NODE_CHANNEL_SERIALIZATION_MODE");

  info.supervised = channel_fd.has_value();
  info.pid = uv_os_getpid();
  if (auto app = get_env("HANDOFF_APP")) info.app = *app;
  auto read_int = [](const char* name, int& field) {
    if (auto text = get_env(name))
      if (auto value = parse_int(*text)) field = *value;
  };
  read_int("HANDOFF_SLOT", info.slot);
  read_int("HANDOFF_WORKERS", info.workers);
  read_int("HANDOFF_GENERATION", info.generation);

  if (auto host = get_env("HOST"); host && !host->empty()) options.host = *host;
  if (auto port = get_env("PORT")) {
    if (auto value = parse_int(*port); value && *value >= 0 && *value <= 65535)
      options.port = *value;
    else
      std::fprintf(stderr, "handoff worker: ignoring PORT=%s, using %d\n", port->c_str(), options.port);
  }
}

int Worker::Impl::run() {
  if (channel_fd && *channel_fd < 0) {
    std::fprintf(stderr, "handoff worker: cannot use the IPC channel\n");
    return 1;
  }
  platform::ignore_sigpipe();
  if (int rc = uv_loop_init(&loop); rc != 0) {
    std::fprintf(stderr, "handoff worker: uv_loop_init: %s\n", uv_strerror(rc));
    return 1;
  }
  stopping = false;
  int status = watch_signal(sigterm, SIGTERM);
  if (status == 0) status = watch_signal(sigint, SIGINT);
  if (status == 0) status = channel_fd ? start_supervised() : start_standalone();
  if (status != 0) stop_now();

  uv_run(&loop, UV_RUN_DEFAULT);

  // Every handle has been closed by now; this only guards the loop's own teardown.
  channel.reset();
  listener.reset();
  if (uv_loop_close(&loop) == UV_EBUSY) {
    uv_walk(&loop, [](uv_handle_t* h, void*) { if (!uv_is_closing(h)) uv_close(h, nullptr); }, nullptr);
    uv_run(&loop, UV_RUN_DEFAULT);
    (void)uv_loop_close(&loop);
  }
  return status;
}

int Worker::Impl::watch_signal(UvHandle<uv_signal_t>& handle, int signum) {
  auto signal = UvHandle<uv_signal_t>::make();
  if (int rc = uv_signal_init(&loop, signal.get()); rc != 0) return rc;
  signal.mark_initialized();
  signal->data = this;
  auto on_signal = [](uv_signal_t* s, int) {
    auto* self = static_cast<Impl*>(s->data);
    if (self == nullptr) return;
    // The first signal drains; a second one means "now".
    if (self->stopping)
      self->stop_now();
    else
      self->stop();
  };
  if (int rc = uv_signal_start(signal.get(), on_signal, signum); rc != 0) return rc;
  handle = std::move(signal);
  return 0;
}

int Worker::Impl::start_supervised() {
  channel = std::make_unique<Channel>(&loop, Channel::Callbacks{
                                                 .connection = [this](UvHandle<uv_tcp_t> tcp) { serve(std::move(tcp)); },
                                                 .welcome =
                                                     [this](const ipc::Welcome& w) {
                                                       info.app = w.app;
                                                       info.slot = w.slot;
                                                       info.workers = w.workers;
                                                       info.generation = w.generation;
                                                     },
                                                 .closed = [this] { stop(); },
                                             });
  if (int rc = channel->open(*channel_fd); rc != 0) {
    std::fprintf(stderr, "handoff worker: cannot open NODE_CHANNEL_FD=%d: %s\n", *channel_fd, uv_strerror(rc));
    return 1;
  }
  channel->send_line(ChannelProtocol::hello_line(uv_os_getpid()));
  // Nothing else to prepare: connections are served as soon as they arrive.
  channel->send_line(ChannelProtocol::ready_line());
  return 0;
}

int Worker::Impl::start_standalone() {
  listener = std::make_unique<TcpListener>(&loop, [this](UvHandle<uv_tcp_t> tcp) { serve(std::move(tcp)); });
  if (int rc = listener->listen(options.host, options.port); rc != 0) {
    std::fprintf(stderr, "handoff worker: cannot listen on %s:%d: %s\n", options.host.c_str(), options.port,
                 uv_strerror(rc));
    return 1;
  }
  std::printf("listening on %s:%d\n", options.host.c_str(), listener->port());
  std::fflush(stdout);  // a test or a supervisor reading a pipe waits for this line
  return 0;
}

void Worker::Impl::serve(UvHandle<uv_tcp_t> tcp) {
  if (stopping) return;  // tcp closes here
  auto connection = std::make_unique<Connection>(&loop, std::move(tcp), handler, options, *this);
  Connection* raw = connection.get();
  connections.emplace(raw, std::move(connection));
  raw->start();  // may close at once, and be gone
}

// Graceful: no new connections, answered responses flushed, idle connections closed.
void Worker::Impl::stop() {
  if (stopping) return;
  stopping = true;
  if (channel) channel->close();
  if (listener) listener->close();
  auto timer = UvHandle<uv_timer_t>::make();
  if (options.shutdown_timeout_ms > 0 && uv_timer_init(&loop, timer.get()) == 0) {
    timer.mark_initialized();
    timer->data = this;
    uv_timer_start(
        timer.get(),
        [](uv_timer_t* t) {
          if (auto* self = static_cast<Impl*>(t->data)) self->stop_now();
        },
        options.shutdown_timeout_ms, 0);
    deadline = std::move(timer);
  }
  for_each_connection([](Connection* c) { c->drain(); });
  finish_if_done();
}

void Worker::Impl::stop_now() {
  stop();
  for_each_connection([](Connection* c) { c->close_now(); });
  finish_if_done();
}

// Connections remove themselves from the map while we visit them, so visit a copy.
template <class Fn>
void Worker::Impl::for_each_connection(Fn fn) {
  std::vector<Connection*> snapshot;
  snapshot.reserve(connections.size());
  for (auto& [raw, owned] : connections) snapshot.push_back(raw);
  for (Connection* c : snapshot)
    if (connections.count(c) != 0) fn(c);
}

void Worker::Impl::finish_if_done() {
  if (!stopping || !connections.empty()) return;
  // The last open handles: closing them lets uv_run return.
  sigterm.reset();
  sigint.reset();
  deadline.reset();
}

void Worker::Impl::connection_closed(Connection* connection) {
  connections.erase(connection);
  finish_if_done();
}

Worker::Worker(Handler handler, WorkerOptions options)
    : impl_(std::make_unique<Impl>(std::move(handler), std::move(options))) {}

Worker::~Worker() = default;

int Worker::run() { return impl_->run(); }

const WorkerInfo& Worker::info() const { return impl_->info; }

}  // namespace handoff
