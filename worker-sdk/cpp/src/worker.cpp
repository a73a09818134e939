#include <handoff/worker.h>

#include "worker-sdk/cpp/src/drain_machine.h"
#include "worker-sdk/cpp/src/http_settings.h"
#include "worker-sdk/cpp/src/route_check.h"

#include "protocols/cache_segment.h"

#include "channel.h"
#include "uvglue/timer.h"
#include "connection.h"
#include "environment.h"
#include "httpsys_server.h"
#include "platform/platform.h"
#include "scoreboard_writer.h"
#include "tcp_listener.h"

#include <algorithm>
#include <cstdio>
#include <deque>
#include <optional>
#include <unordered_map>
#include <variant>
#include <vector>

namespace handoff {

namespace {

// The HTTP.SYS queue counts as one connection of the drain machine while it serves: busy
// (never idle, never handed back) until it has stopped receiving and answered what it had.
constexpr std::uint64_t kHttpSysId = 0;

}  // namespace

struct Worker::Impl final : Connection::Owner {
  Impl(HttpSession::AnyHandler h, WorkerOptions o) : handler(std::move(h)), options(std::move(o)) {
    read_environment();
    program_options = options;
  }

  HttpSession::AnyHandler handler;
  // Connections read these while they live, so a welcome's `http` reaches them: its
  // timeouts at once, its limits for connections that arrive afterwards.
  WorkerOptions options;
  WorkerOptions program_options;  // as the program (and HOST/PORT) gave them
  bool http_applied = false;
  WorkerInfo info;
  std::optional<int> channel_fd;  // supervised when set

  // How the worker stops (serving -> draining -> stopped) is this machine's to decide;
  // this class feeds it (the master's drain, signals, the channel's loss, connections'
  // activity) and carries out its effects (drain_effects()).
  DrainMachine machine{std::nullopt};
  // stop_now() ran (the deadline, a second signal, a failed start): nothing is served.
  bool stopping_now = false;
  bool running = false;  // inside run(): the loop is usable
  std::deque<DrainEffect> pending_effects;  // carried out in order, never re-entrantly
  bool carrying_out = false;

  uv_loop_t loop{};
  std::unique_ptr<Channel> channel;
  std::unique_ptr<TcpListener> listener;
  UvHandle<uv_signal_t> sigterm, sigint;
  Timer wake, heartbeat;  // wake: the machine's next tick (deadline, idle grace)
  // The tick a wake-up asks for runs after the loop's I/O phase (a check handle, with an
  // idle handle so that the poll does not block): see arm_wake().
  UvHandle<uv_check_t> after_io;
  UvHandle<uv_idle_t> poll_now;
  std::unordered_map<std::uint64_t, std::unique_ptr<Connection>> connections;  // by Connection::id()
  std::uint64_t last_connection_id = 0;  // ids from 1: 0 is the HTTP.SYS queue's (kHttpSysId)
  std::size_t connections_peak = 0;  // since memory was last given back (connection_closed)
  std::uint64_t requests = 0;
  std::uint64_t bytes = 0;  // response bytes written, for `stats` where the scoreboard is not mapped
  ipc::RouteCheck route;  // welcome.route, then `route`: whether a keep-alive request is still ours
  // welcome.cache: the app has an output cache, which connections arriving from now on tell
  // of their cacheable responses (cache_note()). Absent: they judge nothing.
  std::optional<ipc::CacheOffer> cache;
  // welcome.cache.table mapped read-only: their later requests that it has fresh entries
  // for are answered from it. Null: the master alone answers hits.
  std::shared_ptr<cache_table::Reader> cache_table;
  void open_cache_table(const std::string& name);

  // Sockets going back to the master, one at a time: the front one is sent and stays open
  // here until the master's ACK (protocols/README.md: one handle in flight per channel;
  // the channel resends it on a NACK).
  struct Handback {
    UvHandle<uv_tcp_t> socket;
    std::string line;  // until sent
    std::uint64_t id = 0;  // the connection's, which the machine counts until the ACK
  };
  std::deque<Handback> handbacks;
  bool handback_sent = false;
  ScoreboardWriter scoreboard;  // the master's shared record of this slot, if we may write it
  // Requests from the slot's HTTP.SYS queue instead of sockets (welcome.httpsys, Windows).
  std::unique_ptr<HttpSysServer> httpsys;
  void start_httpsys(const ipc::HttpSys& queue);

  // Worker::after timers, by a number of their own: each leaves the map when it fires.
  std::unordered_map<std::uint64_t, Timer> timers;
  std::uint64_t next_timer = 0;

  void read_environment();
  int run();
  int start_supervised();
  int start_standalone();
  int watch_signal(UvHandle<uv_signal_t>& handle, int signum);
  void serve(UvHandle<uv_tcp_t> tcp, const ipc::Conn& conn = {});
  void accept_from(UvHandle<uv_tcp_t> tcp, const ipc::Listen& listen);
  std::int64_t now();
  bool stopped() const { return stopping_now || machine.phase() == DrainMachine::Phase::stopped; }
  void drain_effects(const DrainEffects& effects);
  void carry_out(const DrainEffect& effect);
  void report_activity();
  void arm_wake(std::int64_t at);
  void tick_after_io();
  Connection* find_connection(std::uint64_t id);
  void stop_now();
  void finish_if_done();
  void apply_http(const ipc::HttpSettings& http);
  void start_heartbeat(std::int64_t ms);
  void send_stats();
  void after(std::uint64_t ms, std::function<void()> fn);
  void connection_closed(Connection* connection) override;
  void activity_changed(Connection* connection, Connection::Activity activity) override;
  void hand_back(Connection* connection, UvHandle<uv_tcp_t> socket, ipc::Handback message) override;
  void send_next_handback();
  void handback_settled();
  void drop_handbacks();
  void responses_produced(std::size_t n) override {
    requests += n;
    scoreboard.requests_done(n);
  }
  void bytes_written(std::size_t n) override {
    bytes += n;
    scoreboard.bytes_written(n);
  }
  void table_hits(std::size_t n) override { scoreboard.cache_hits(n); }
  void cache_note(CacheNote note) override {
    if (!channel || !channel->is_open()) return;
    channel->send_line(std::visit([](auto& message) { return ipc::encode(std::move(message)); }, note));
  }
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
  if (info.supervised) {
    std::string why;
    if (!scoreboard.attach(info.app, info.slot, why))
      std::fprintf(stderr, "handoff worker: %s; the master reports this worker from its heartbeats\n", why.c_str());
    scoreboard.set_generation(info.generation);
  }

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
  // Unset (0), the program's grace never forces an exit.
  machine = DrainMachine(options.shutdown_timeout_ms > 0 ? std::optional<std::int64_t>(options.shutdown_timeout_ms)
                                                          : std::nullopt);
  stopping_now = false;
  running = true;
  int status = watch_signal(sigterm, SIGTERM);
  if (status == 0) status = watch_signal(sigint, SIGINT);
  if (status == 0) status = channel_fd ? start_supervised() : start_standalone();
  if (status != 0) stop_now();

  uv_run(&loop, UV_RUN_DEFAULT);
  running = false;

  // Every handle has been closed by now; this only guards the loop's own teardown.
  timers.clear();
  channel.reset();
  listener.reset();
  httpsys.reset();
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
    // The first signal drains (as the master's `drain` does, or lets it go on); a second
    // one means "now".
    self->report_activity();
    self->drain_effects(self->machine.signal(self->now()));
  };
  if (int rc = uv_signal_start(signal.get(), on_signal, signum); rc != 0) return rc;
  handle = std::move(signal);
  return 0;
}

int Worker::Impl::start_supervised() {
  channel = std::make_unique<Channel>(
      &loop, Channel::Callbacks{
                 .connection = [this](UvHandle<uv_tcp_t> tcp, const ipc::Conn& conn) { serve(std::move(tcp), conn); },
                 .listen = [this](UvHandle<uv_tcp_t> tcp, const ipc::Listen& l) { accept_from(std::move(tcp), l); },
                 .handle_settled = [this](bool) { handback_settled(); },
                 .welcome =
                     [this](const ipc::Welcome& w) {
                       info.app = w.app;
                       info.slot = w.slot;
                       info.workers = w.workers;
                       info.generation = w.generation;
                       route = w.route;
                       cache = w.cache;
                       if (cache && !cache->table.empty()) open_cache_table(cache->table);
                       if (w.http) apply_http(*w.http);
                       // The master's drain numbers; a drain already under way (a signal
                       // came first) keeps the ones it started with, as in the Node SDK.
                       if (w.drain && machine.phase() == DrainMachine::Phase::serving) machine.set_rules(*w.drain);
                       if (w.httpsys && !httpsys) start_httpsys(*w.httpsys);
                       scoreboard.set_generation(w.generation);
                       start_heartbeat(w.heartbeat_ms);
                     },
                 // Read at each request (serve()): connections held now check their next
                 // requests against the new rule and slot count.
                 .route =
                     [this](const ipc::Route& r) {
                       info.workers = r.workers;
                       route = r.route;
                     },
                 .drain =
                     [this](const ipc::Drain& d) {
                       report_activity();
                       drain_effects(machine.drain(now(), d.timeout_ms, d.handback && channel->is_open()));
                     },
                 .metrics =
                     [this](const ipc::Metrics& m) {
                       if (!options.metrics) return;
                       channel->send_line(ipc::encode(
                           ipc::MetricsText{.id = m.id, .text = options.metrics(), .sum = options.metrics_sum}));
                     },
                 // The master is gone: nobody hands us sockets or reads our stats.
                 .closed =
                     [this] {
                       heartbeat.reset();
                       drop_handbacks();
                       // Nobody takes sockets back any more: idle ones close after the grace.
                       report_activity();
                       drain_effects(machine.channel_lost(now()));
                     },
             });
  if (int rc = channel->open(*channel_fd); rc != 0) {
    std::fprintf(stderr, "handoff worker: cannot open NODE_CHANNEL_FD=%d: %s\n", *channel_fd, uv_strerror(rc));
    return 1;
  }
  channel->send_line(ipc::encode(ipc::Hello{
      .sdk = "cpp", .version = ipc::kVersion, .pid = uv_os_getpid(), .metrics = static_cast<bool>(options.metrics),
      // Each socket arrives in its own read (Channel), so several may be on their way.
      .window = ipc::kMaxHandleWindow}));
  // Nothing else to prepare: connections are served as soon as they arrive.
  channel->send_line(ipc::encode(ipc::Ready{}));
  return 0;
}

// Kernel dispatch: the slot's listening socket, accepted from here until the drain stops
// accepting (DrainEffect::stop_accepting closes our copy; the master keeps its own, so
// what waits in the queue goes to the next worker of the slot).
void Worker::Impl::accept_from(UvHandle<uv_tcp_t> tcp, const ipc::Listen& l) {
  if (machine.phase() != DrainMachine::Phase::serving) return;  // stopping: not ours to take
  const std::string name = l.listener;
  auto accepting = std::make_unique<TcpListener>(&loop, [this, name](UvHandle<uv_tcp_t> client) {
    ipc::Conn conn;  // no address: the connection's own peer is the client
    conn.listener = name;
    serve(std::move(client), conn);
  });
  if (int rc = accepting->adopt(std::move(tcp), l.backlog); rc != 0) {
    std::fprintf(stderr, "handoff worker: cannot accept on the slot's socket: %s\n", uv_strerror(rc));
    return;
  }
  listener = std::move(accepting);
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

void Worker::Impl::open_cache_table(const std::string& name) {
  std::string why;
  std::shared_ptr<CacheSegment> segment = CacheSegment::open(name, why);
  if (!segment) {
    // The master's hits go on; this worker's keep-alive requests go to the app.
    std::fprintf(stderr, "handoff: cannot map the cache table %s: %s\n", name.c_str(), why.c_str());
    cache_table.reset();
    return;
  }
  cache_table = std::shared_ptr<cache_table::Reader>(segment, &segment->reader());
}

void Worker::Impl::serve(UvHandle<uv_tcp_t> tcp, const ipc::Conn& conn) {
  if (stopped()) return;  // tcp closes here
  // Under the supervisor each request after a connection's first is checked against the
  // app's rule (read at request time: a later welcome applies at once).
  std::function<bool(const Request&)> belongs;
  if (channel)
    belongs = [this](const Request& r) { return belongs_here(route, info.slot, info.workers, r.target, r.headers); };
  const std::uint64_t id = ++last_connection_id;
  auto connection = std::make_unique<Connection>(&loop, std::move(tcp), handler, options, *this, id, conn,
                                                 std::move(belongs), cache, cache_table);
  Connection* raw = connection.get();
  connections.emplace(id, std::move(connection));
  connections_peak = std::max(connections_peak, connections.size());
  scoreboard.connection_opened();
  raw->start();  // may close at once, and be gone
  // Draining, a socket still arrives if the master sent it before it sent `drain`: the
  // machine has it served all the same, its response saying `Connection: close`. Only a
  // socket under a channel can go back.
  if (connections.count(id) != 0) drain_effects(machine.opened(now(), id, channel && channel->is_open()));
}

std::int64_t Worker::Impl::now() {
  uv_update_time(&loop);
  return static_cast<std::int64_t>(uv_now(&loop));
}

// Serving, connections' activity is not reported (it changes at every request, and only a
// drain needs it): the machine learns it here, when a drain may begin.
void Worker::Impl::report_activity() {
  if (machine.phase() != DrainMachine::Phase::serving) return;
  for (auto& [id, c] : connections) {
    const auto activity = c->activity();
    if (activity == Connection::Activity::idle)
      (void)machine.idle(static_cast<std::int64_t>(c->last_activity()), id);  // serving: no effect
    else if (activity == Connection::Activity::detached)
      (void)machine.detached(now(), id);
  }
}

void Worker::Impl::activity_changed(Connection* connection, Connection::Activity activity) {
  if (!machine.draining()) return;  // report_activity() tells it when a drain begins
  const std::uint64_t id = connection->id();
  switch (activity) {
    case Connection::Activity::busy: return drain_effects(machine.busy(now(), id));
    case Connection::Activity::idle:
      return drain_effects(machine.idle(static_cast<std::int64_t>(connection->last_activity()), id));
    case Connection::Activity::detached: return drain_effects(machine.detached(now(), id));
  }
}

// Effects come from events that effects themselves cause (a connection told to finish
// may close at once): they queue, and are carried out in order by the outermost call.
void Worker::Impl::drain_effects(const DrainEffects& effects) {
  pending_effects.insert(pending_effects.end(), effects.begin(), effects.end());
  if (carrying_out) return;
  carrying_out = true;
  while (!pending_effects.empty()) {
    const DrainEffect effect = pending_effects.front();
    pending_effects.pop_front();
    carry_out(effect);
  }
  carrying_out = false;
}

void Worker::Impl::carry_out(const DrainEffect& effect) {
  switch (effect.kind) {
    case DrainEffect::Kind::stop_accepting:
      if (listener) listener->close();
      if (httpsys) httpsys->drain();
      return;
    case DrainEffect::Kind::finish:
      if (auto* c = find_connection(effect.id)) c->drain();
      return;
    case DrainEffect::Kind::hand_back:
      if (auto* c = find_connection(effect.id)) c->hand_back_idle();
      return;
    case DrainEffect::Kind::close:
      // Nothing is in flight on an idle connection: no FIN dance needed.
      if (auto* c = find_connection(effect.id)) c->close_now();
      return;
    case DrainEffect::Kind::arm_timer: return arm_wake(effect.at);
    case DrainEffect::Kind::exit: return stop_now();
    case DrainEffect::Kind::stopped: return finish_if_done();
  }
}

Connection* Worker::Impl::find_connection(std::uint64_t id) {
  auto it = connections.find(id);
  return it == connections.end() ? nullptr : it->second.get();
}

void Worker::Impl::arm_wake(std::int64_t at) {
  if (!wake && !(wake = Timer(&loop))) return;
  const std::int64_t in = at - now();
  wake.start<[](Impl& self) { self.tick_after_io(); }>(this, static_cast<std::uint64_t>(std::max<std::int64_t>(in, 0)));
}

// libuv runs timers before it reads what arrived meanwhile. After a stall (a busy machine
// did not run this process for longer than the idle grace), a connection whose next
// request already waits in the kernel would look idle, and closing it would reset that
// request (the client: ECONNRESET on a reused socket). So the tick a wake-up asks for
// runs after the loop's I/O phase, on fresh facts: in a check handle, with an idle handle
// active meanwhile so that the poll does not wait.
void Worker::Impl::tick_after_io() {
  if (!after_io) {
    auto check = UvHandle<uv_check_t>::make();
    auto idle = UvHandle<uv_idle_t>::make();
    if (uv_check_init(&loop, check.get()) != 0) return;
    check.mark_initialized();
    if (uv_idle_init(&loop, idle.get()) != 0) return;
    idle.mark_initialized();
    check->data = this;
    after_io = std::move(check);
    poll_now = std::move(idle);
  }
  if (uv_is_active(after_io.base())) return;
  uv_idle_start(poll_now.get(), [](uv_idle_t*) {});
  uv_check_start(after_io.get(), [](uv_check_t* handle) {
    auto* self = static_cast<Impl*>(handle->data);
    if (!self) return;
    uv_check_stop(self->after_io.get());
    uv_idle_stop(self->poll_now.get());
    self->drain_effects(self->machine.tick(self->now()));
    // The machine asks again only when its next time moves; never leave it unwoken.
    if (auto next = self->machine.next_wakeup(); next && self->wake && !self->wake.active()) self->arm_wake(*next);
  });
}

void Worker::Impl::stop_now() {
  stopping_now = true;
  if (listener) listener->close();
  for_each_connection([](Connection* c) { c->close_now(); });
  if (httpsys) httpsys->stop();
  finish_if_done();
}

// Connections remove themselves from the map while we visit them, so visit a copy.
template <class Fn>
void Worker::Impl::for_each_connection(Fn fn) {
  std::vector<std::uint64_t> snapshot;
  snapshot.reserve(connections.size());
  for (auto& [id, owned] : connections) snapshot.push_back(id);
  for (std::uint64_t id : snapshot)
    if (auto* c = find_connection(id)) fn(c);
}

void Worker::Impl::finish_if_done() {
  if (!stopped() || !connections.empty() || !handbacks.empty()) return;
  if (httpsys && !httpsys->idle()) return;
  stopping_now = true;  // (httpsys, idle, holds no handle now; it goes after the loop)
  // The last open handles: closing them lets uv_run return. Closing the channel tells
  // the master we are done; a handle it sent meanwhile is not ACKed, so it goes elsewhere.
  if (channel) channel->close();
  heartbeat.reset();
  sigterm.reset();
  sigint.reset();
  wake.reset();
  after_io.reset();
  poll_now.reset();
  timers.clear();
}

void Worker::Impl::connection_closed(Connection* connection) {
  const std::uint64_t id = connection->id();
  if (connections.erase(id) != 0) scoreboard.connection_closed();  // destroys it
  drain_effects(machine.closed(now(), id));
  // A wave of idle connections has closed (their keep-alive timeouts come in a burst, as
  // they were opened): give their memory back. Rare (the peak must halve, from at least
  // kReleaseAfter) and cheap next to closing that many sockets.
  constexpr std::size_t kReleaseAfter = 1024;
  if (connections_peak >= kReleaseAfter && connections.size() <= connections_peak / 2) {
    if (connections.empty()) connections.rehash(0);  // the bucket array sized for the peak
    platform::release_free_memory();
    connections_peak = connections.size();
  }
  finish_if_done();
}

void Worker::Impl::hand_back(Connection* connection, UvHandle<uv_tcp_t> socket, ipc::Handback message) {
  // No longer ours: it counts toward nothing here (the socket waits only for its ACK; the
  // machine counts it until then).
  const std::uint64_t id = connection->id();
  if (connections.erase(id) != 0) scoreboard.connection_closed();  // destroys it
  if (channel && channel->is_open()) {
    handbacks.push_back({std::move(socket), ipc::encode(message), id});
    send_next_handback();
  } else {
    // Without a channel the socket closes here: nobody could route it again.
    drain_effects(machine.closed(now(), id));
  }
  finish_if_done();
}

void Worker::Impl::send_next_handback() {
  if (handback_sent || handbacks.empty()) return;
  auto& front = handbacks.front();
  if (!channel->send_handle(std::move(front.line), front.socket.stream())) {
    const std::uint64_t id = front.id;
    handbacks.pop_front();  // closes it: the channel is broken, the client retries
    drain_effects(machine.closed(now(), id));
    return send_next_handback();
  }
  handback_sent = true;
}

// The master took the socket (it has its own descriptor now: ours closes), or refused it
// after the channel's resends (the connection is dropped; the client retries).
void Worker::Impl::handback_settled() {
  if (!handback_sent || handbacks.empty()) return;
  handback_sent = false;
  const std::uint64_t id = handbacks.front().id;
  handbacks.pop_front();
  drain_effects(machine.closed(now(), id));
  send_next_handback();
  finish_if_done();
}

void Worker::Impl::drop_handbacks() {
  auto dropped = std::move(handbacks);  // their sockets close here
  handbacks.clear();
  handback_sent = false;
  for (const auto& h : dropped) drain_effects(machine.closed(now(), h.id));
}

// The slot's queue replaces sockets: the master sends none to an app on an `httpsys`
// listener. A queue that cannot be served is fatal: the master starts another worker.
void Worker::Impl::start_httpsys(const ipc::HttpSys& queue) {
  httpsys = std::make_unique<HttpSysServer>(
      &loop, handler,
      HttpSysServer::Callbacks{.responses = [this](std::size_t n) { responses_produced(n); },
                               .idle =
                                   [this] {
                                     drain_effects(machine.closed(now(), kHttpSysId));
                                     finish_if_done();
                                   }});
  std::string why;
  if (!httpsys->start(queue, options.limits.max_body_size, cache, why)) {
    std::fprintf(stderr, "handoff worker: cannot serve HTTP.SYS queue %s: %s\n", queue.prefix.c_str(), why.c_str());
    httpsys.reset();
    stop_now();
    return;
  }
  drain_effects(machine.opened(now(), kHttpSysId, false));
}

// The config wins; a value of the program's own that it replaces is named, once.
void Worker::Impl::apply_http(const ipc::HttpSettings& http) {
  const auto replaced = apply_http_settings(http, program_options, options);
  if (!std::exchange(http_applied, true))
    for (const auto& line : replaced) std::fprintf(stderr, "%s\n", line.c_str());
}

// The heartbeat runs on the loop that serves: a handler that blocks it silences the
// heartbeat, and the master replaces a worker that stays silent. Unref'd: it is no
// reason to keep running.
void Worker::Impl::start_heartbeat(std::int64_t ms) {
  heartbeat.reset();
  if (ms <= 0 || stopped() || !channel || !channel->is_open()) return;
  Timer timer(&loop);
  if (!timer) return;
  send_stats();
  const auto period = static_cast<std::uint64_t>(ms);
  timer.start<&Impl::send_stats>(this, period, period);
  timer.unref();
  heartbeat = std::move(timer);
}

void Worker::Impl::send_stats() {
  scoreboard.heartbeat();
  std::size_t rss = 0;
  if (uv_resident_set_memory(&rss) != 0) rss = 0;
  channel->send_line(ipc::encode(
      ipc::Stats{.requests = requests,
                 .connections = connections.size() + (httpsys ? httpsys->in_flight() : 0),
                 .bytes = bytes,
                 .rss = rss}));
}

void Worker::Impl::after(std::uint64_t ms, std::function<void()> fn) {
  if (!running || stopped()) return;
  Timer timer(&loop);
  if (!timer) return;
  const std::uint64_t key = next_timer++;
  // One-shot: the Timer hands the callback over before it runs, so leaving the map
  // (which closes the handle) first is safe, and fn may call after() or stop the worker.
  timer.start(ms, 0, [this, key, fn = std::move(fn)] {
    timers.erase(key);
    fn();
  });
  timers.emplace(key, std::move(timer));
}

Worker::Worker(Handler handler, WorkerOptions options)
    : impl_(std::make_unique<Impl>(std::move(handler), std::move(options))) {}

Worker::Worker(AsyncHandler handler, WorkerOptions options)
    : impl_(std::make_unique<Impl>(std::move(handler), std::move(options))) {}

Worker::~Worker() = default;

int Worker::run() { return impl_->run(); }

const WorkerInfo& Worker::info() const { return impl_->info; }

void Worker::after(std::uint64_t ms, std::function<void()> fn) { impl_->after(ms, std::move(fn)); }

std::uint64_t Worker::requests() const { return impl_->requests; }

std::size_t Worker::connections() const { return impl_->connections.size(); }

}  // namespace handoff
