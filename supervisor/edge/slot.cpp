#include "supervisor/edge/slot.h"

#include "supervisor/platform/kernel_dispatch.h"

#include "supervisor/core/roll_report.h"

#include "supervisor/core/routing/httpsys_prefix.h"

#include "protocols/overloaded.h"
#include "protocols/unix_time.h"

#include <algorithm>
#include <csignal>
#include <variant>

#include "supervisor/edge/log.h"
#include "supervisor/platform/platform.h"
#include "supervisor/core/worker_env.h"

namespace handoff {
namespace {

TimePoint now() { return std::chrono::steady_clock::now(); }

}  // namespace

Slot::Slot(const SlotContext& context, SlotObserver& observer, int number, std::size_t lane,
           std::shared_ptr<const AppConfig> config)
    : context_(context),
      observer_(observer),
      number_(number),
      lane_(lane),
      config_(std::move(config)),
      machine_(config_->lifecycle, *this),
      timer_(context_.loop) {
  if (auto* board = context_.scoreboard) {
    record_ = scoreboard::allocate(board, config_->name, static_cast<std::uint32_t>(number_));
    if (!record_) log_line(name() + ": the scoreboard is full; this slot is not shown in status");
  }
}

Slot::~Slot() {
  if (auto* r = record()) scoreboard::release(*r);
}

scoreboard::Record* Slot::record() const {
  auto* board = context_.scoreboard;
  return board && record_ ? scoreboard::record(board, *record_) : nullptr;
}

void Slot::show_worker(int generation) {
  auto* r = record();
  Process* p = process(generation);
  if (!r || !p || !p->worker) return;
  scoreboard::begin_worker(*r, p->worker->pid(), static_cast<std::uint32_t>(generation), unix_ms());
  rate_requests_ = 0;
  rate_at_ = now();
}

void Slot::show_strangers(std::size_t strangers, std::int64_t pid) {
  if (auto* r = record()) {
    r->kernel_strangers.store(strangers, std::memory_order_relaxed);
    r->stranger_pid.store(pid, std::memory_order_relaxed);
  }
}

void Slot::show_cache(const cache::Counters& counters) {
  if (auto* r = record()) {
    r->cache_hits.store(counters.hits, std::memory_order_relaxed);
    r->cache_misses.store(counters.misses, std::memory_order_relaxed);
    r->cache_entries.store(counters.entries, std::memory_order_relaxed);
    r->cache_bytes.store(counters.bytes, std::memory_order_relaxed);
  }
}

void Slot::show_queued(std::size_t waiting) {
  if (auto* r = record()) r->queued.store(waiting, std::memory_order_relaxed);
}

void Slot::publish_rate(TimePoint t) {
  auto* r = record();
  if (!r) return;
  const auto requests = r->requests.load(std::memory_order_relaxed);
  const double seconds = std::chrono::duration<double>(t - rate_at_).count();
  // A new worker starts counting from 0 again.
  const auto delta = requests >= rate_requests_ ? requests - rate_requests_ : requests;
  if (seconds > 0)
    r->rate_milli.store(static_cast<std::uint64_t>(static_cast<double>(delta) * 1000.0 / seconds), std::memory_order_relaxed);
  rate_requests_ = requests;
  rate_at_ = t;
}

std::string Slot::name() const { return config_->name + "/" + std::to_string(number_); }

Slot::Process* Slot::process(int generation) {
  auto it = processes_.find(generation);
  return it == processes_.end() ? nullptr : it->second.get();
}

// ---- Commands from the app ----------------------------------------------------------

void Slot::start() {
  machine_.start(now());
  settle();
}

void Slot::stop(std::chrono::milliseconds grace, bool hand_back) {
  // A shutdown (or the app's removal): the master's copy of the slot's socket closes, so
  // the address refuses connections once the worker, draining, closed its own. (A handle
  // in flight still needs it; the slot's end closes it then.)
  if (!hand_back && !listen_in_flight_) kernel_queue_.reset();
  machine_.stop(now(), grace, hand_back);
  settle();
}

void Slot::kill_all() {
  machine_.kill_all();
  settle();
}

SlotMachine::Replace Slot::replace(std::shared_ptr<const AppConfig> config) {
  pending_config_ = std::move(config);
  machine_.set_policy(pending_config_->lifecycle);
  const auto result = machine_.replace(RestartReason::reload, now());
  if (result != SlotMachine::Replace::started) {
    set_config(pending_config_);
    pending_config_.reset();
  }
  settle();
  return result;
}

void Slot::set_config(std::shared_ptr<const AppConfig> config) {
  config_ = std::move(config);
  machine_.set_policy(config_->lifecycle);
}

void Slot::sample_usage() {
  publish_rate(now());
  // Kernel dispatch: the accept queue of the slot's socket, read from the kernel here (once
  // a second) rather than per connection; a slot without a worker has one too (that is
  // when it fills). The master's own queue (`queued`) never sees these connections.
  if (auto* r = record()) {
    const auto queue = kernel_queue_ ? platform::accept_queue(platform::socket_of(kernel_queue_.get()))
                                     : std::optional<platform::AcceptQueue>{};
    r->kernel_queued.store(queue ? queue->waiting : 0, std::memory_order_relaxed);
    r->kernel_backlog.store(queue ? queue->backlog : 0, std::memory_order_relaxed);
  }
  const auto generation = machine_.accepting();
  if (!generation) return;
  if (Process* p = process(*generation); p && p->worker)
    if (const auto usage = platform::process_usage(p->worker->pid())) {
      if (auto* r = record()) {
        r->rss.store(usage->rss, std::memory_order_relaxed);
        r->cpu_ms.store(usage->cpu_ms, std::memory_order_relaxed);
        r->cpu_milli.store(cpu_rate_.sample(p->worker->pid(), usage->cpu_ms, now()), std::memory_order_relaxed);
      }
      machine_.rss(*generation, usage->rss, now());
    }
  // Workers that write their record themselves report their open connections there.
  if (auto* r = record(); r && generation) observer_.worker_load(lane_, static_cast<std::uint32_t>(r->connections.load(std::memory_order_relaxed)));
  settle();
}

LaneState Slot::lane_state() const {
  LaneState state{machine_.accepting().has_value(), machine_.failing_to_start(), machine_.state() == SlotState::stopping};
  if (const auto generation = machine_.accepting())
    if (const auto it = processes_.find(*generation); it != processes_.end()) state.window = it->second->window;
  return state;
}

bool Slot::send(Connection& c) {
  const auto generation = machine_.accepting();
  if (!generation) return false;
  if (listen_in_flight_ == *generation) return false;  // its ACK pumps the queue again
  // The previous worker still owes answers: its ACKs pump the queue again.
  if (in_flight_generation_ && *in_flight_generation_ != *generation) return false;
  Process* p = process(*generation);
  if (!p || !p->worker->channel_open()) return false;
  if (c.fill && !p->welcomed) {
    // A program without the SDK never answers a fill: what waits for the key goes on now
    // instead of at lock_timeout, and the key passes for pass_ttl.
    c.fill = false;
    if (context_.cache_pass) context_.cache_pass(ipc::CachePass{.host = c.fill_host, .target = c.fill_target});
  }
  if (const int rc = p->worker->send_connection(conn_of(c), c.socket); rc != 0) {
    // The channel broke under us; its read side reports it. The dispatcher keeps the connection.
    log_line(name() + ": cannot send a connection: " + uv_strerror(rc));
    return false;
  }
  in_flight_generation_ = *generation;
  if (c.fill) {
    // Bounded: a fill it never answers (its client left) ended at lock_timeout long ago.
    if (p->open_fills.size() == kMaxOpenFills) p->open_fills.erase(p->open_fills.begin());
    p->open_fills.push_back(ipc::CachePass{.host = c.fill_host, .target = c.fill_target});
  }
  return true;
}

void Slot::misbehaved(KillReason reason, std::string detail) {
  if (!in_flight_generation_) return;
  machine_.misbehaved(*in_flight_generation_, reason, std::move(detail));
  settle();
}

// ---- SlotEffects: what the machine asks of the world --------------------------------

bool Slot::spawn(int generation, bool replacement, std::string& error) {
  const auto& config = replacement && pending_config_ ? pending_config_ : config_;
  const AppConfig& app = *config;
  SpawnSpec spec;
  spec.argv = app.command;
  spec.cwd = app.cwd;
  std::optional<ScoreboardRef> board;
  if (record_ && context_.scoreboard_for_workers(app)) board = ScoreboardRef{context_.scoreboard_name, *record_};
  spec.env = worker_environment(context_.inherited_env, {app, number_, generation}, board);
  spec.app = app.name;
  spec.slot = number_;
  spec.max_message = context_.ipc_max_message;
  spec.uid = app.run_as.uid;
  spec.gid = app.run_as.gid;
  spec.guard = context_.worker_guard;
  if (!prepare_httpsys(app, error)) return false;
  exited_.clear();  // earlier generations have had time to flush their output
  auto p = std::make_unique<Process>(*this, generation);
  p->oom_kills_at_spawn = platform::oom_kill_count();
  p->worker = WorkerProcess::spawn(context_.loop, spec, *p, error);
  if (!p->worker) return false;
  p->ready_on_spawn = app.ready == ReadyMode::on_spawn;
  p->config = config;
  Process& spawned = *p;
  processes_[generation] = std::move(p);
  // A plain worker never says hello: its listening socket goes now (kernel dispatch).
  if (spawned.ready_on_spawn) give_kernel_queue(spawned);
  if (!replacement) show_worker(generation);  // a replacement is shown once it takes over
  event(slot_event::Spawned{generation, app.command.front()});
  return true;
}

bool Slot::prepare_httpsys(const AppConfig& app, std::string& error) {
  if (app.httpsys.empty()) {
    httpsys_.reset();
    return true;
  }
  const std::string prefix = httpsys_slot_prefix(app.httpsys, app.routes.empty() ? "" : app.routes.front(), number_);
  if (httpsys_ && httpsys_->prefix() == prefix) return true;
  httpsys_.reset();  // a reload moved the slot's prefix: the old one is released first
  httpsys_ = platform::HttpSysQueue::create(prefix, error);
  if (!httpsys_) return false;
  log_event("httpsys_queue", {{"app", config_->name}, {"slot", number_}, {"prefix", prefix}});
  return true;
}

// welcome.cache. In HTTP.SYS mode the worker also decides the lifetime of a `public`
// response without one (HTTP.SYS's kernel cache has no master to apply default_ttl).
std::optional<ipc::CacheOffer> Slot::cache_offer(const AppConfig& app) const {
  if (!app.cache.enabled) return std::nullopt;
  ipc::CacheOffer offer{.max_entry = app.cache.max_entry, .default_ttl_ms = 0, .table = context_.cache_table};
  if (!app.httpsys.empty()) offer.default_ttl_ms = static_cast<std::uint64_t>(app.cache.default_ttl.count());
  return offer;
}

// HTTP.SYS's kernel cache (apps on an `httpsys` listener with `cache:`): the slot's queue
// flushes what its workers' responses left there under `url`.
platform::HttpSysQueue::Flush Slot::flush_httpsys_cache(const std::string& url, std::string& error) {
  if (!httpsys_) {
    error = "the slot has no HTTP.SYS queue now";
    return platform::HttpSysQueue::Flush::failed;
  }
  return httpsys_->flush_cache(url, error);
}

const std::string* Slot::httpsys_prefix() const { return httpsys_ ? &httpsys_->prefix() : nullptr; }

// Each worker gets its own duplicate of the slot's queue: it dies with the worker, the
// queue (and requests waiting in it) stays with the slot.
std::optional<ipc::HttpSys> Slot::httpsys_for(Process& p) {
  if (!httpsys_ || !p.config || p.config->httpsys.empty()) return std::nullopt;
  std::string why;
  auto value = httpsys_->give_to(p.worker->process(), why);
  if (!value) {
    log_line(name() + ": " + why);
    p.worker->signal(SIGKILL);  // it could never serve; the restart policy takes over
    return std::nullopt;
  }
  return ipc::HttpSys{*value, httpsys_->prefix()};
}

void Slot::give_kernel_queue(Process& p) {
  if (!kernel_queue_ || !p.config || !p.config->kernel_listener) return;
  const auto& l = *p.config->kernel_listener;
  const std::string line = ipc::encode(ipc::Listen{.listener = l.name, .backlog = l.backlog});
  if (const int rc = p.worker->send_handle(line, kernel_queue_.stream()); rc != 0) {
    log_line(name() + ": cannot send the slot's listening socket: " + uv_strerror(rc));
    return;
  }
  listen_in_flight_ = p.generation;
}

void Slot::drain(int generation, std::chrono::milliseconds grace, bool hand_back) {
  Process* p = process(generation);
  if (!p) return;
  const ipc::Drain drain{.timeout_ms = grace.count(), .handback = hand_back};
  // A handle on its way to this worker must be acknowledged first, or it would land in
  // a worker that has already decided to stop.
  if (in_flight_generation_ == generation || listen_in_flight_ == generation) {
    p->drain_after_ack = drain;
    return;
  }
  send_drain(*p, drain);
}

void Slot::send_drain(Process& p, const ipc::Drain& drain) {
  p.drain_after_ack.reset();
  if (machine_.speaks_sdk(p.generation) && p.worker->channel_open()) {
    p.worker->send(drain);
  } else {
    p.worker->signal(SIGTERM);  // a plain worker's way to be told
  }
}

void Slot::kill(int generation) {
  if (Process* p = process(generation)) p->worker->signal(SIGKILL);
}

std::optional<std::int64_t> Slot::pid() const {
  const auto generation = machine_.accepting();
  if (!generation) return std::nullopt;
  auto it = processes_.find(*generation);
  if (it == processes_.end() || !it->second->worker) return std::nullopt;
  return it->second->worker->pid();
}

void Slot::event(const SlotEvent& e) {
  restarts_.on_event(e);
  if (auto failure = roll_failure(e)) last_failure_ = std::move(*failure);
  if (auto* r = record()) {
    // `status` reads the scoreboard, not the master: whoever saw this event's line must
    // find the state it left there (settle() would store it only after the line).
    r->state.store(static_cast<std::uint32_t>(machine_.state()), std::memory_order_relaxed);
    std::uint64_t total = 0;
    for (const auto& [reason, n] : restarts_.counts()) total += n;
    r->restarts.store(total, std::memory_order_relaxed);
    std::visit(overloaded{
                   [&](const slot_event::Exited& exit) { scoreboard::set_last_exit(*r, describe(exit.status)); },
                   [&](const slot_event::StartFailed& failure) { scoreboard::set_last_exit(*r, describe(failure.status)); },
                   [&](const slot_event::Replaced& replaced) { show_worker(replaced.generation); },
                   [](const auto&) {},
               },
               e);
  }
  const EventText text = text_of(e);
  LogFields fields{{"app", config_->name}, {"slot", number_}};
  if (text.generation) {
    if (Process* p = process(*text.generation); p && p->worker) fields.emplace_back("pid", p->worker->pid());
    fields.emplace_back("generation", *text.generation);
  }
  fields.insert(fields.end(), text.fields.begin(), text.fields.end());
  log_event(text.name, fields);
}

void Slot::replacement_done(bool ok) {
  if (ok && pending_config_) config_ = pending_config_;
  pending_config_.reset();
  observer_.replacement_done(number_, ok);
}

double Slot::random() { return std::uniform_real_distribution<double>(0.0, 1.0)(random_); }

WorkerFacts Slot::facts(int generation) {
  WorkerFacts facts;
  Process* p = process(generation);
  if (!p) return facts;
  facts.address_in_use = p->address_in_use;
  // Only a running process has sockets to look at (its group's remains die with it).
  if (p->worker && !p->worker->exited()) facts.listening = platform::listening_tcp_addresses(p->worker->pid());
  return facts;
}

// ---- Worker events ------------------------------------------------------------------

void Slot::on_message(Process& p, const ipc::Message& message) {
  const int generation = p.generation;
  std::visit(overloaded{
                 [&](const ipc::Hello& hello) {
                   if (hello.version != ipc::kVersion)
                     log_line(name() + ": worker speaks protocol version " + std::to_string(hello.version) +
                              ", we speak " + std::to_string(ipc::kVersion));
                   machine_.hello(generation);
                   p.welcomed = true;
                   p.metrics = hello.metrics;
                   p.window = std::min(hello.window, platform::max_handle_window());
                   p.worker->set_window(p.window);
                   const auto& lc = machine_.policy();
                   // The app's slots now (a `scale` may have changed them since the config).
                   const auto route = observer_.route_message();
                   p.worker->send(ipc::Welcome{config_->name, number_, route.workers, generation,
                                               lc.heartbeat_interval.count(), route.route,
                                               p.config->http, httpsys_for(p), DrainRules{},
                                               cache_offer(*p.config)});
                   give_kernel_queue(p);
                 },
                 [&](const ipc::Ready&) {
                   if (!p.ready_on_spawn) machine_.ready(generation, now());
                 },
                 [&](const ipc::Stats& stats) {
                   if (auto* r = record())
                     scoreboard::report_stats(*r, static_cast<std::uint32_t>(generation), stats.requests,
                                              stats.connections, stats.bytes, unix_ms());
                   machine_.heartbeat(generation, stats.requests, now());
                   observer_.worker_load(lane_, static_cast<std::uint32_t>(stats.connections));
                 },
                 [&](const ipc::MetricsText& text) {
                   if (context_.app_metrics) context_.app_metrics(config_->name, number_, text);
                 },
                 [&](const ipc::CachePut& put) {
                   answered_fill(p, put.host, put.target);
                   if (context_.cache_put) context_.cache_put(put);
                 },
                 [&](const ipc::CachePass& pass) {
                   answered_fill(p, pass.host, pass.target);
                   if (context_.cache_pass) context_.cache_pass(pass);
                 },
                 [](const auto&) {},  // unknown, or not for the master: ignored
             },
             message);
  settle();
}

// An ACK, once per connection, only frees the way for the next one (the dispatcher sends
// it): nothing of the slot's lifecycle to settle. ACKs come in the order handles went.
void Slot::on_handle_taken(Process& p) {
  if (listen_in_flight_ == p.generation) {
    listen_in_flight_.reset();
    log_event("kernel_queue_given", {{"app", config_->name}, {"slot", number_}, {"generation", p.generation}});
    if (p.drain_after_ack) send_drain(p, *p.drain_after_ack);
    observer_.slot_changed(lane_);  // a connection held back meanwhile may go now
    return;
  }
  if (in_flight_generation_ != p.generation) return;  // not the one we wait for
  // The channel has counted this answer already (a `listen` is never in flight beside them).
  const bool answered_all = p.worker->handles_in_flight() == 0;
  if (answered_all) in_flight_generation_.reset();
  if (auto* r = record()) r->handed_off.fetch_add(1, std::memory_order_relaxed);
  if (p.drain_after_ack && answered_all) send_drain(p, *p.drain_after_ack);
  observer_.acked(lane_);  // the next one may go
}

// The channel resent it ipc::kMaxHandleResends times and the worker still NACKed it.
void Slot::on_handle_refused(Process& p) {
  if (listen_in_flight_ == p.generation) {
    // A worker that cannot accept by itself (an SDK without kernel dispatch) never serves.
    listen_in_flight_.reset();
    machine_.misbehaved(p.generation, KillReason::protocol, "refused the slot's listening socket");
    settle();
    return;
  }
  if (in_flight_generation_ != p.generation) return;
  observer_.refused(lane_);
  settle();
}

void Slot::send_route(const ipc::Route& route) {
  for (auto& [generation, p] : processes_)
    if (p->welcomed && p->worker->channel_open()) p->worker->send(route);
}

bool Slot::ask_metrics(std::uint64_t id) {
  const auto generation = machine_.accepting();
  Process* p = generation ? process(*generation) : nullptr;
  if (!p || !p->metrics || !p->worker->channel_open()) return false;
  p->worker->send(ipc::Metrics{id});
  return true;
}

void Slot::answered_fill(Process& p, std::string_view host, std::string_view target) {
  const auto it = std::find_if(p.open_fills.begin(), p.open_fills.end(),
                               [&](const ipc::CachePass& f) { return f.host == host && f.target == target; });
  if (it != p.open_fills.end()) p.open_fills.erase(it);
}

void Slot::on_handback(UvHandle<uv_tcp_t> socket, const ipc::Handback& message) {
  auto c = std::make_unique<Connection>();
  c->socket = ClientSocket(std::move(socket));
  c->id = message.id;
  c->listener = message.listener;
  c->carried = message.head;
  c->handed_back = true;
  c->accepted_at = std::chrono::steady_clock::now();  // its hand-off latency counts from here
  // The address the worker was given (a PROXY protocol source stays the client's).
  if (!set_peer_address(*c, message.remote_address, message.remote_port) && !read_peer_address(*c)) return;
  if (context_.hand_back) context_.hand_back(std::move(c));
}

void Slot::on_protocol_violation(Process& p, const std::string& reason) {
  machine_.misbehaved(p.generation, KillReason::protocol, reason);
  settle();
}

void Slot::on_channel_lost(Process& p) {
  machine_.channel_lost(p.generation, now());
  settle();
}

void Slot::on_exit(Process& p, std::int64_t status, int signal) {
  ExitStatus exit{status, signal, false};
  if (signal == SIGKILL && p.oom_kills_at_spawn) {
    const auto count = platform::oom_kill_count();
    exit.out_of_memory = count && *count > *p.oom_kills_at_spawn;
  }
  const int generation = p.generation;
  const bool had_handle = in_flight_generation_ == generation;
  if (had_handle) in_flight_generation_.reset();
  if (listen_in_flight_ == generation) listen_in_flight_.reset();
  machine_.exited(generation, exit, now());
  // Its fills will never be answered. (One whose handle it had not taken goes to the next
  // worker again, a fill still; what waited meanwhile leads a second one: both answer.)
  if (context_.cache_fill_lost)
    for (const auto& fill : p.open_fills) context_.cache_fill_lost(fill);
  p.open_fills.clear();
  // Keep the process object (its pipes may still hold its last words) but out of the map.
  auto node = processes_.extract(generation);
  if (!node.empty()) exited_.push_back(std::move(node.mapped()));
  // Whatever it had not acknowledged goes back to the head of the queue: nothing is lost.
  if (had_handle) observer_.worker_gone(lane_);
  settle();
}

// ---- Settling -----------------------------------------------------------------------

void Slot::settle() {
  for (auto& [generation, p] : processes_) {
    if (p->ready_on_spawn && machine_.state() != SlotState::stopping) {
      p->ready_on_spawn = false;
      machine_.ready(generation, now());
    }
  }
  const auto accepting = machine_.accepting();
  const auto state = machine_.state();
  const bool turning_away = machine_.failing_to_start();
  if (accepting != was_accepting_ || state != was_state_ || turning_away != was_turning_away_) {
    if (auto* r = record()) r->state.store(static_cast<std::uint32_t>(state), std::memory_order_relaxed);
    was_accepting_ = accepting;
    was_state_ = state;
    was_turning_away_ = turning_away;
    observer_.slot_changed(lane_);
  }
  arm_timer();
}

void Slot::arm_timer() {
  const std::optional<TimePoint> when = machine_.next_deadline();
  if (!when) {
    timer_.stop();
    return;
  }
  const auto delay = std::chrono::ceil<std::chrono::milliseconds>(*when - now()).count();
  timer_.start<[](Slot& me) {
    me.machine_.tick(now());
    me.settle();
  }>(this, static_cast<std::uint64_t>(std::max<std::int64_t>(delay, 0)));
}

}  // namespace handoff
