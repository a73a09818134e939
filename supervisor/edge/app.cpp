#include "supervisor/edge/app.h"

#include <algorithm>
#include <set>

#include "supervisor/core/kernel_group.h"
#include "supervisor/core/routing/httpsys_prefix.h"
#include "supervisor/core/scoreboard_name.h"
#include "supervisor/core/routing/rehash.h"
#include "supervisor/core/routing/source_hash_program.h"
#include "supervisor/edge/log.h"
#include "supervisor/edge/real_host.h"
#include "supervisor/platform/kernel_dispatch.h"
#include "supervisor/platform/platform.h"
#include "supervisor/platform/service.h"

namespace handoff {
namespace {

TimePoint now() { return std::chrono::steady_clock::now(); }

}  // namespace

App::App(uv_loop_t* loop, std::shared_ptr<const AppConfig> config, std::size_t ipc_max_message,
         std::function<void()> on_stopped, AppHooks hooks)
    : loop_(loop),
      config_(std::move(config)),
      on_stopped_(std::move(on_stopped)),
      hooks_(std::move(hooks)),
      context_{loop_, ipc_max_message, supervisor_environment(), hooks_.scoreboard, hooks_.scoreboard_name,
               hooks_.scoreboard_uid, hooks_.worker_guard, {}, {}, {}, {}, {}, {}},
      dispatcher_(*this, DispatchSettings::of(*config_)),
      timer_(loop_),
      kernel_timer_(loop_) {
  set_rule();
  set_cache();
  context_.cache_put = [this](const ipc::CachePut& put) {
    if (cache_) cache_->put(put);
  };
  context_.cache_pass = [this](const ipc::CachePass& pass) {
    if (cache_) cache_->pass(pass);
  };
  context_.cache_fill_lost = [this](const ipc::CachePass& fill) {
    if (cache_) cache_->abandon(fill);
  };
  for (int n = 1; n <= config_->workers; ++n) add_slot(n);
}

void App::on_handback(std::function<void(ConnectionPtr)> route_again) {
  context_.hand_back = std::move(route_again);
  set_cache();
}

// The table C++ SDK workers answer hits from; without it (no scoreboard, or the segment
// cannot be made) the master alone answers them.
std::unique_ptr<CacheSegment> App::make_cache_table() const {
  if (context_.scoreboard_name.empty()) return nullptr;
  const std::string name = cache_table_name(context_.scoreboard_name, config_->name);
  std::string why;
  auto table = CacheSegment::create(name, config_->cache.max_size, why);
  if (table && config_->run_as.uid &&
      !platform::give_shared_memory(table->native_handle(),
                                    platform::Ids{*config_->run_as.uid, *config_->run_as.gid}, why))
    table.reset();
  if (!table) log_line(config_->name + ": no shared cache table (" + name + "): " + why);
  return table;
}

void App::set_cache() {
  // In HTTP.SYS mode the master never sees a request: the workers give their cacheable
  // responses to HTTP.SYS's kernel cache instead (welcome.cache).
  if (!config_->cache.enabled || !config_->httpsys.empty()) {
    cache_.reset();
    context_.cache_table.clear();
    return;
  }
  const std::chrono::milliseconds idle(config_->http.keep_alive_timeout_ms);
  if (cache_) cache_->set_config(config_->cache, idle);
  else cache_ = std::make_unique<CacheFront>(loop_, config_->cache, idle, make_cache_table());
  context_.cache_table = cache_->table_name();
  // What the cache answered or held goes back through its listener's intake, as a worker's
  // hand-back does.
  cache_->set_reintake(context_.hand_back);
}

App::~App() = default;

Slot& App::add_slot(int number) {
  const std::size_t lane = dispatcher_.add_slot();
  slots_.push_back(std::make_unique<Slot>(context_, static_cast<SlotObserver&>(*this), number, lane, config_));
  if (by_lane_.size() <= lane) by_lane_.resize(lane + 1);
  by_lane_[lane] = slots_.back().get();
  return *slots_.back();
}

void App::open_kernel_queues() {
  if (!config_->kernel_listener) return;
  const ListenerConfig& l = *config_->kernel_listener;
  bool changed = false;
  for (auto& slot : slots_) {
    if (slot->has_kernel_queue()) continue;
    int error = 0;
    const std::intptr_t fd = platform::open_reuseport_socket(l.host, l.port, true, l.backlog, error);
    auto socket = UvHandle<uv_tcp_t>::make();
    uv_tcp_init(loop_, socket.get());
    socket.mark_initialized();
    if (fd >= 0 && (error = uv_tcp_open(socket.get(), static_cast<uv_os_sock_t>(fd))) != 0)
      platform::close_socket(fd);  // not the handle's: closed here, out of the group at once
    if (error != 0) {
      // Its workers get nothing to accept from; the log says why.
      log_event("kernel_queue_failed", {{"app", config_->name}, {"slot", slot->number()}, {"error", uv_strerror(error)}});
      continue;
    }
    log_event("kernel_queue", {{"app", config_->name}, {"slot", slot->number()}, {"listener", l.name}});
    group_.push_back(fd);  // listen() appended it to the group
    slot->set_kernel_queue(std::move(socket));
    changed = true;
  }
  if (changed) kernel_group_changed();
  check_kernel_group();  // at the group's build: a stranger already there is reported now
}

void App::kernel_sockets(std::set<std::uint64_t>& inodes) const {
  // Each slot's, and removed slots' still draining (the sockets taken over from failing
  // slots are duplicates of their slot's: the same inode).
  const auto add = [&](const uv_tcp_t* socket) {
    if (auto inode = platform::socket_inode(platform::socket_of(socket))) inodes.insert(*inode);
  };
  for (const auto& slot : slots_)
    if (slot->has_kernel_queue()) add(slot->kernel_queue());
  for (const auto& [n, acceptor] : draining_queues_) add(acceptor->handle());
}

void App::check_kernel_group() {
  if (!config_->kernel_listener) return;
  const ListenerConfig& l = *config_->kernel_listener;
  if (!strangers_) {
    const auto address = group_address(l.host, l.port);
    if (!address) return;  // not an IP address: nothing in the kernel's tables to compare
    strangers_.emplace(*address);
  }
  std::set<std::uint64_t> own;
  if (hooks_.master_kernel_sockets) own = hooks_.master_kernel_sockets();
  kernel_sockets(own);
  const auto change = strangers_->update(platform::listening_sockets(), own);
  for (const auto& s : change.appeared) stranger_pids_[s.inode] = platform::pid_holding_socket(s.inode);
  // The records first, then the log: whoever reads the line finds status saying it too.
  std::int64_t first_pid = 0;
  for (const auto& [inode, s] : strangers_->strangers())
    if ((first_pid = stranger_pids_[inode]) != 0) break;
  for (auto& slot : slots_) slot->show_strangers(strangers_->count(), first_pid);
  for (const auto& s : change.appeared)
    log_event("kernel_group_stranger",
              {{"app", config_->name}, {"listener", l.name}, {"address", s.address}, {"inode", s.inode},
               {"uid", s.uid}, {"pid", stranger_pids_[s.inode]}, {"strangers", strangers_->count()},
               {"warning", "a socket that is not the supervisor's listens on the group's port (SO_REUSEPORT) and "
                           "takes a share of its connections: an old worker, a second supervisor?"}});
  for (const auto& s : change.gone) {
    const auto pid = stranger_pids_[s.inode];
    stranger_pids_.erase(s.inode);
    log_event("kernel_group_stranger_gone", {{"app", config_->name}, {"listener", l.name}, {"address", s.address},
                                             {"inode", s.inode}, {"pid", pid}, {"strangers", strangers_->count()}});
  }
}

void App::kernel_group_changed() {
  // round_robin: the kernel's own spread by 4-tuple, no program. ip_hash: the program for
  // the slots now in the group (core/routing/source_hash_program.h), in slot order; a
  // removed slot's socket, still in the group while it drains, is past the last index
  // the program returns, so it gets no new connection.
  if (slots_.empty() || !slots_.front()->has_kernel_queue()) return;
  // round_robin while removed slots' sockets drain in the group: a program keeps new
  // connections off them (a handshake under way when one closes would be reset).
  const bool by_port = config_->policy.name != "ip_hash" && group_.size() > slots_.size();
  if (config_->policy.name != "ip_hash" && !by_port) {
    if (!attached_program_) return;
    std::string why;  // a reload turned ip_hash into round_robin
    if (platform::detach_source_hash(platform::socket_of(slots_.front()->kernel_queue()), why)) {
      attached_program_.reset();
      log_event("source_hash_detached", {{"app", config_->name}});
    } else {
      log_event("source_hash_failed", {{"app", config_->name}, {"error", why}});
    }
    return;
  }
  // Each slot's place in the group: its own index, unless a scale up came while removed
  // slots' sockets still drain in the group (then the new ones are past them, and a
  // close moved the group's last socket into the closed one's place).
  std::vector<std::uint32_t> index(slots_.size(), kSourceHashFallback);
  for (std::size_t i = 0; i < slots_.size(); ++i) {
    if (!slots_[i]->has_kernel_queue()) continue;
    const auto at = std::find(group_.begin(), group_.end(), static_cast<std::intptr_t>(platform::socket_of(slots_[i]->kernel_queue())));
    if (at != group_.end()) index[i] = static_cast<std::uint32_t>(at - group_.begin());
  }
  // on_unavailable rehash: a down slot's clients go to the socket of the next ready slot
  // after it, the slot the Dispatcher's rehash would pick (what already waited in the down
  // slot's queue the master takes: watch_kernel_queue).
  std::vector<std::uint32_t> own = index;
  std::size_t rerouted = 0;
  for (const int n : rerouted_) {
    const std::size_t home = static_cast<std::size_t>(n - 1);
    if (home >= slots_.size()) continue;
    const auto to = rehash_target(home, slots_.size(), [&](std::size_t i) {
      return slots_[i]->lane_state().ready && own[i] != kSourceHashFallback;
    });
    if (!to) continue;
    index[home] = own[*to];
    ++rerouted;
  }
  if (attached_program_ && attached_program_->first == index && attached_program_->second == by_port) return;  // the program the group has
  std::string why;
  const int slots = static_cast<int>(slots_.size());
  if (!platform::attach_source_hash(platform::socket_of(slots_.front()->kernel_queue()), slots, index, why, by_port))
    log_event("source_hash_failed", {{"app", config_->name}, {"error", why}});
  else {
    attached_program_.emplace(index, by_port);
    log_event("source_hash",
              {{"app", config_->name}, {"slots", slots}, {"key", by_port ? "port" : "address"}, {"rerouted", rerouted}});
  }
}

std::unique_ptr<Acceptor> App::accept_for(UvHandle<uv_tcp_t> socket, int& error) {
  auto acceptor = std::make_unique<Acceptor>();
  error = acceptor->start(
      std::move(socket), config_->kernel_listener ? config_->kernel_listener->backlog : 511,
      [this](ConnectionPtr&& c) { dispatch_from_kernel_queue(std::move(c)); }, [](int) {});
  return acceptor;
}

void App::dispatch_from_kernel_queue(ConnectionPtr c) {
  c->accepted_at = std::chrono::steady_clock::now();
  if (config_->kernel_listener) c->listener = config_->kernel_listener->name;
  // queue.timeout counts its wait in the kernel's queue too.
  std::optional<TimePoint> since;
  if (const auto waited = platform::waited_in_queue(c->socket.descriptor())) since = now() - *waited;
  dispatch(std::move(c), nullptr, since);
}

void App::drain_kernel_queue(UvHandle<uv_tcp_t> socket, int slot) {
  if (!socket) return;
  taken_over_.erase(slot);
  rerouted_.erase(slot);  // a removed slot: the program made for the slots that stay has none of its buckets
  int rc = 0;
  draining_queues_[slot] = accept_for(std::move(socket), rc);
  if (rc != 0)
    log_event("kernel_queue_drain_failed", {{"app", config_->name}, {"slot", slot}, {"error", uv_strerror(rc)}});
}

void App::watch_kernel_queue(const Slot& slot) {
  const int n = slot.number();
  const LaneState lane = slot.lane_state();
  const KernelQueueSlot view{.ready = lane.ready, .failing = lane.turns_away || slot.state() == SlotState::crash_loop};
  const auto takeover = stopping_ || !slot.has_kernel_queue()
                            ? std::nullopt
                            : kernel_queue_takeover(view, policy_entry_->affinity, config_->on_unavailable,
                                                    config_->queue.timeout);
  if (!takeover) {
    kernel_down_since_.erase(n);
    if (taken_over_.erase(n) > 0) log_event("kernel_queue_returned", {{"app", config_->name}, {"slot", n}});
    // Its clients back to it; and while others are rerouted, their target may have changed.
    if (rerouted_.erase(n) > 0 || !rerouted_.empty()) kernel_group_changed();
    return;
  }
  if (taken_over_.contains(n)) {
    if (!rerouted_.empty()) kernel_group_changed();  // another slot's readiness may move a target
    return;
  }
  const TimePoint since = kernel_down_since_.try_emplace(n, now()).first->second;
  if (const TimePoint due = since + takeover->after; now() < due) return arm_kernel_queue_timer(due);
  const std::intptr_t fd = platform::duplicate_socket(platform::socket_of(slot.kernel_queue()));
  auto socket = UvHandle<uv_tcp_t>::make();
  uv_tcp_init(loop_, socket.get());
  socket.mark_initialized();
  int rc = fd >= 0 ? uv_tcp_open(socket.get(), static_cast<uv_os_sock_t>(fd)) : UV_EBADF;
  if (rc != 0 && fd >= 0) platform::close_socket(fd);
  std::unique_ptr<Acceptor> acceptor = rc == 0 ? accept_for(std::move(socket), rc) : nullptr;
  if (rc != 0) {
    log_event("kernel_queue_takeover_failed", {{"app", config_->name}, {"slot", n}, {"error", uv_strerror(rc)}});
    return;
  }
  log_event("kernel_queue_taken_over", {{"app", config_->name}, {"slot", n}, {"reason", name_of(takeover->reason)}});
  taken_over_[n] = std::move(acceptor);
  // ip_hash with rehash: new clients of the slot go to the next ready slot in the kernel,
  // and the master only takes what had already reached the slot's queue.
  if (policy_entry_->affinity && config_->on_unavailable == Unavailable::rehash && attached_program_) {
    rerouted_.insert(n);
    kernel_group_changed();
  }
}

void App::arm_kernel_queue_timer(TimePoint due) {
  if (kernel_timer_at_ && *kernel_timer_at_ <= due && kernel_timer_.active()) return;
  kernel_timer_at_ = due;
  const auto delay = std::chrono::ceil<std::chrono::milliseconds>(due - now()).count();
  kernel_timer_.start<[](App& me) {
    me.kernel_timer_at_.reset();
    for (auto& slot : me.slots_) me.watch_kernel_queue(*slot);
  }>(this, static_cast<std::uint64_t>(std::max<std::int64_t>(delay, 0)));
}

void App::close_kernel_queue(int slot) {
  auto it = draining_queues_.find(slot);
  if (it == draining_queues_.end()) return;
  // What still waits in its queue would be reset by the close: accepted and routed first.
  std::size_t moved = 0;
  for (const std::intptr_t fd : platform::accept_waiting(platform::socket_of(it->second->handle()))) {
    auto c = std::make_unique<Connection>();
    c->socket = ClientSocket(loop_, fd);
    if (!read_peer_address(*c)) continue;  // gone already: closed with it
    dispatch_from_kernel_queue(std::move(c));
    ++moved;
  }
  log_event("kernel_queue_closed", {{"app", config_->name}, {"slot", slot}, {"moved", moved}});
  // The kernel takes a closed socket out of the group by moving the last one into its
  // place (reuseport_detach_sock); the mirror does the same. (The removed slot is stopped:
  // no worker holds a copy that would keep it in the group.)
  if (auto at = std::find(group_.begin(), group_.end(), static_cast<std::intptr_t>(platform::socket_of(it->second->handle()))); at != group_.end()) {
    *at = group_.back();
    group_.pop_back();
  }
  draining_queues_.erase(it);
  kernel_group_changed();
}

void App::start() {
  for (auto& slot : slots_) slot->start();
}

void App::stop(std::chrono::milliseconds grace) {
  stopping_ = true;
  roll_.stop();
  end_scale("the app is stopping");
  dispatcher_.stop();
  draining_queues_.clear();  // the master accepts nothing more for removed or failing slots
  taken_over_.clear();
  kernel_timer_.stop();
  for (auto* list : {&slots_, &retired_})
    for (auto& slot : *list) {
      dispatcher_.stop_slot(slot->lane());  // nobody will serve what waits there any more
      slot->stop(grace);
    }
  settled();
  ready_changed();
}

void App::kill_all() {
  for (auto& slot : slots_) slot->kill_all();
  for (auto& slot : retired_) slot->kill_all();
}

bool App::stopped() const {
  for (const auto* list : {&slots_, &retired_})
    for (const auto& slot : *list)
      if (slot->state() != SlotState::stopped) return false;
  return true;
}

void App::sample_usage() {
  // Also the place to free slots scaled away: this runs from a timer, never from inside
  // one of those slots' own callbacks.
  reap_retired();
  for (auto& slot : slots_) slot->sample_usage();
  if (cache_)
    for (auto& slot : slots_) slot->show_cache(cache_->counters());
  // The group's listening sockets every kStrangerCheckEvery samples: a read of the kernel's
  // table of this family's TCP sockets, cheap at that pace.
  if (config_->kernel_listener && ++samples_ % kStrangerCheckEvery == 0) check_kernel_group();
}

// ---- Dispatch: the glue between the dispatcher and sockets, workers, timer ----------

void App::dispatch(ConnectionPtr&& connection, const RequestHead* head, std::optional<TimePoint> waiting_since) {
  if (cache_ && head && cache_->take(connection, *head)) return;  // answered or held by the output cache
  Connection& c = *connection;
  const TimePoint t = now();
  if (c.accepted_at == TimePoint{}) c.accepted_at = t;  // accepted just now (one clock read for both)
  const RouteInput input{c.address_bytes(), head, c.address_text, c.port};
  // Kept for a second look only where the rule reads the connection.
  std::unique_ptr<const RouteFacts> facts;
  if (reads_connection(*policy_entry_))
    facts = std::make_unique<const RouteFacts>(c.address_bytes(), c.address_text, c.port, head,
                                               policy_entry_->needs_head);
  dispatcher_.dispatch(std::move(connection), input, std::move(facts), t, waiting_since);
  settled();
}

void App::reject(ConnectionPtr connection, int status) { handoff::reject(std::move(connection), status, rejected_); }

bool App::send(std::size_t lane, ConnectionPtr& connection) { return by_lane_[lane]->send(*connection); }

void App::handed_off(std::size_t, const ConnectionPtr& connection, TimePoint::duration queue_wait) {
  // Its ACK came: the hand-off latency (the dispatcher then closes our copy).
  queue_wait_.observe(std::chrono::duration<double>(queue_wait).count());
  handoff_latency_.observe(
      std::chrono::duration<double>(std::chrono::steady_clock::now() - connection->accepted_at).count());
}

void App::misbehaved(std::size_t lane, KillReason reason, std::string detail) {
  // Killing the worker changes the slot, which the dispatcher hears of: after its event.
  misbehaving_.push_back({lane, reason, std::move(detail)});
}

void App::queue_timeout(std::size_t lane) {
  log_event("queue_timeout", {{"app", config_->name}, {"slot", by_lane_[lane]->number()}});
}

void App::queue_flushed(std::size_t lane, std::size_t connections) {
  log_event("queue_flushed", {{"app", config_->name},
                               {"slot", by_lane_[lane]->number()},
                               {"connections", connections},
                               {"reason", "no worker of this slot has been ready yet, and its start failed"}});
}

void App::slot_changed(std::size_t lane) {
  dispatcher_.slot_state(lane, by_lane_[lane]->lane_state(), now());
  settled();
  ready_changed();
  if (Slot* slot = by_lane_[lane]; slot && config_->kernel_listener) watch_kernel_queue(*slot);
  if (Slot* slot = by_lane_[lane]; slot && scaling()) watch_scale(*slot);
}

void App::acked(std::size_t lane) {
  // The time only matters when another connection waits to be sent (its ACK deadline):
  // the clock is left alone on the hand-off path otherwise.
  dispatcher_.ack(lane, dispatcher_.waiting(lane) > 0 ? now() : TimePoint{});
  settled();
}

void App::refused(std::size_t lane) {
  dispatcher_.refused(lane);
  settled();
}

void App::worker_gone(std::size_t lane) {
  dispatcher_.worker_gone(lane, now());
  settled();
}

void App::worker_load(std::size_t lane, std::uint32_t open) { dispatcher_.worker_load(lane, open); }

void App::queue_length(std::size_t lane, std::size_t waiting) {
  if (Slot* slot = by_lane_[lane]) slot->show_queued(waiting);
}

void App::settle_effects() {
  if (!misbehaving_.empty())
    for (auto pending = std::exchange(misbehaving_, {}); auto& m : pending)
      if (Slot* slot = by_lane_[m.lane]) slot->misbehaved(m.reason, std::move(m.detail));
  arm_timer();
}

void App::arm_timer() {
  // Only when the dispatcher's earliest deadline moved earlier: a deadline that an ACK
  // cleared lets the timer fire early and find nothing due.
  const auto when = dispatcher_.take_deadline();
  if (!when) return;
  const auto delay = std::chrono::ceil<std::chrono::milliseconds>(*when - now()).count();
  timer_.start<[](App& me) {
    me.dispatcher_.tick(now());
    me.settled();
  }>(this, static_cast<std::uint64_t>(std::max<std::int64_t>(delay, 0)));
}

int App::ready_workers() const {
  int n = 0;
  for (const auto& slot : slots_) n += slot->accepting() ? 1 : 0;
  return n;
}

AppMetrics App::metrics() const {
  AppMetrics m;
  m.name = config_->name;
  m.rejected = rejected_;
  m.handoff_latency = handoff_latency_;
  m.queue_wait = queue_wait_;
  m.worker_counters = config_->ready != ReadyMode::on_spawn;
  m.ready_workers = ready_workers();
  m.min_ready = config_->min_ready;
  for (const auto* list : {&slots_, &retired_})
    for (const auto& slot : *list)
      m.restarts[static_cast<std::uint32_t>(slot->number())] = slot->restart_counts();
  if (config_->kernel_listener) {
    m.kernel_listener = config_->kernel_listener->name;
    m.kernel_strangers = strangers_ ? strangers_->count() : 0;
  }
  if (cache_) m.cache = cache_->counters();
  return m;
}

void App::set_rule() {
  std::string error;
  auto policy = make_policy(config_->policy, real_host().load_library, error);
  const PolicyEntry* entry = find_policy(config_->policy.name);
  if (!policy) {
    // The config check made this rule a moment ago (a plugin that loaded then and not
    // now): keep the rule we have; without one, fall back to round_robin.
    log_event("policy_failed", {{"app", config_->name}, {"error", error}});
    if (policy_entry_) return;
    entry = find_policy("round_robin");
    policy = make_policy(RuleConfig{}, real_host().load_library, error);
  }
  policy_entry_ = entry;
  dispatcher_.set_rule(std::move(policy), entry->affinity);
  auto foreign = std::move(route_check_.foreign);
  route_check_ = {};
  if (policy_entry_->key != KeySource::none) {
    const auto& rule = config_->policy;
    route_check_.rule = policy_entry_->key;
    route_check_.index = rule.index;
    route_check_.direct = rule.direct;
    route_check_.name = rule.key_name;
    route_check_.missing_stays = rule.missing_key != "404";
  }
  route_check_.prefixes = config_->routes;
  route_check_.foreign = std::move(foreign);
}

void App::set_foreign_prefixes(std::vector<std::string> prefixes) { route_check_.foreign = std::move(prefixes); }

void App::announce_route() {
  const auto message = route_message();
  log_event("route", {{"app", config_->name},
                      {"workers", message.workers},
                      {"rule", message.route.rule == KeySource::none ? "none" : std::string(name_of(message.route.rule))}});
  // Retired slots are draining: their responses close their connections anyway.
  for (auto& slot : slots_) slot->send_route(message);
}

void App::ready_changed() {
  if (const int ready = ready_workers(); ready != ready_) {
    ready_ = ready;
    if (hooks_.on_ready_changed) hooks_.on_ready_changed();
  }
  if (stopping_ && stopped() && on_stopped_) on_stopped_();
}

// ---- Reload -------------------------------------------------------------------------

bool App::reconfigure(std::shared_ptr<const AppConfig> next, bool roll_all) {
  const auto previous = config_;
  config_ = std::move(next);
  if (!(config_->policy == previous->policy) || config_->routes != previous->routes) set_rule();
  // A changed rule under kernel dispatch: ip_hash's program on or off (a scale below
  // attaches it again for a new slot count).
  if (config_->kernel_listener && config_->policy.name != previous->policy.name) kernel_group_changed();
  dispatcher_.set_settings(DispatchSettings::of(*config_));
  if (!(config_->cache == previous->cache) || !(config_->http == previous->http)) set_cache();
  const bool new_workers = !config_->same_workers_as(*previous);
  // Settings that need no new process apply to every slot now.
  if (!new_workers)
    for (auto& slot : slots_) slot->set_config(config_);
  scale(config_->workers);
  if (new_workers) return start_roll("config changed");
  if (roll_all) return start_roll("reload");
  return false;
}

bool App::restart() { return start_roll("restart"); }

bool App::start_roll(const char* why) {
  if (stopping_) return false;
  log_event("reload_roll", {{"app", config_->name}, {"slots", slots_.size()}, {"why", why}});
  if (cache_) cache_->purge({});  // new workers may answer differently
  flush_kernel_cache_quietly();
  roll_.start();
  return true;
}

bool App::flush_kernel_cache(const std::string& prefix, std::string& text) {
  if (!kernel_cache()) {
    text = "app \"" + config_->name + "\" has no cache";
    return false;
  }
  std::vector<std::string> flushed;
  for (auto& slot : slots_) {
    const std::string* slot_prefix = slot->httpsys_prefix();
    if (!slot_prefix) continue;  // its queue could not be made (logged; the slot restarts)
    const auto url = httpsys_flush_url(*slot_prefix, prefix);
    if (!url) continue;
    std::string error;
    switch (slot->flush_httpsys_cache(*url, error)) {
      case platform::HttpSysQueue::Flush::flushed: flushed.push_back(*url); break;
      case platform::HttpSysQueue::Flush::unsupported:
        text = "HTTP.SYS kernel cache: flushing is not supported here: " + error;
        return false;
      case platform::HttpSysQueue::Flush::failed:
        text = "HTTP.SYS kernel cache: slot " + std::to_string(slot->number()) + ": " + error;
        return false;
    }
  }
  if (flushed.empty()) {
    text = "HTTP.SYS kernel cache: no slot's prefix meets " + prefix + ", nothing flushed";
    return true;
  }
  text = "HTTP.SYS kernel cache flushed under";
  for (std::size_t i = 0; i < flushed.size(); ++i) text += (i ? ", " : " ") + flushed[i];
  return true;
}

// A roll empties the cache (new code may answer differently): HTTP.SYS's too, where it can.
void App::flush_kernel_cache_quietly() {
  if (!kernel_cache()) return;
  std::string text;
  const bool ok = flush_kernel_cache({}, text);
  log_event("kernel_cache_flush", {{"app", config_->name}, {"why", "roll"}, {"ok", ok}, {"detail", text}});
}

void App::scale(int workers) {
  const auto target = static_cast<std::size_t>(workers);
  if (target == slots_.size()) return;
  log_event("scale", {{"app", config_->name}, {"from", slots_.size()}, {"to", target}});
  end_scale("a newer scale came");
  scale_watch_.emplace(config_->name, slots_.size(), target);
  scale_reported_ = false;
  const std::size_t before = slots_.size();
  while (slots_.size() < target) add_slot(static_cast<int>(slots_.size()) + 1);
  open_kernel_queues();  // the new slots join the group before their workers start
  for (std::size_t i = before; i < slots_.size(); ++i) slots_[i]->start();
  while (slots_.size() > target) {
    auto slot = std::move(slots_.back());
    slots_.pop_back();
    drain_kernel_queue(slot->take_kernel_queue(), slot->number());
    // What waits there is routed again over the slots that stay, with its key.
    dispatcher_.retire_last(now());
    // The app goes on serving: its workers may give idle keep-alive sockets back.
    slot->stop(config_->lifecycle.drain_timeout, /*hand_back=*/true);
    retired_.push_back(std::move(slot));
  }
  // ip_hash: the program for the slots that stay, at once, so that the kernel sends the
  // removed slots' clients to them rather than into the sockets the master drains.
  if (slots_.size() < before) kernel_group_changed();
  settled();
  ready_changed();  // readiness counts changed
  roll_.slots_changed();
  for (auto* list : {&slots_, &retired_})  // those that settled at once (ready on spawn, nothing to drain)
    for (auto& slot : *list)
      if (scaling()) watch_scale(*slot);
}

void App::watch_scale(const Slot& slot) {
  ScaleWatch& watch = *scale_watch_;
  const int n = slot.number();
  const bool retired = std::any_of(retired_.begin(), retired_.end(), [&](const auto& s) { return s.get() == &slot; });
  if (watch.added(n) && !retired) {
    if (auto pid = slot.pid()) watch.ready(n, *pid);
    else if (slot.lane_state().turns_away) watch.failed(n, slot.last_failure());
  } else if (watch.removed(n) && retired && slot.state() == SlotState::stopped) {
    watch.stopped(n);
  }
  if (watch.complete()) end_scale();
}

void App::end_scale(const char* interrupted) {
  if (!scale_watch_ || scale_reported_) return;
  if (interrupted) scale_watch_->interrupt(interrupted);
  if (!scale_watch_->complete()) return;
  scale_reported_ = true;
  if (hooks_.on_scale_end) hooks_.on_scale_end(config_->name, scale_watch_->ok(), scale_watch_->describe());
}

void App::replacement_done(int slot, bool ok) { roll_.replaced(static_cast<std::size_t>(slot - 1), ok); }

void App::finished(const RollReport& report) {
  // Emptied at the roll's start too; old workers still answering meanwhile may have stored.
  if (cache_) cache_->purge({});
  flush_kernel_cache_quietly();
  switch (report.outcome) {
    case RollReport::Outcome::rolled: log_event("reload_done", {{"app", config_->name}}); break;
    case RollReport::Outcome::aborted:
      log_event("reload_aborted",
                {{"app", config_->name},
                 {"slot", report.steps.empty() ? 1 : report.steps.back().slot},
                 {"reason", "the new worker did not become ready; the old workers keep serving"},
                 {"failure", report.reason}});
      break;
    default: log_event("reload_ended", {{"app", config_->name}, {"outcome", describe(report)}}); break;
  }
  if (hooks_.on_roll_end) hooks_.on_roll_end(report);
}

void App::reap_retired() {
  std::erase_if(retired_, [this](const std::unique_ptr<Slot>& s) {
    if (s->state() != SlotState::stopped) return false;
    close_kernel_queue(s->number());
    dispatcher_.forget(s->lane());
    by_lane_[s->lane()] = nullptr;
    return true;
  });
}

std::vector<int> App::ask_metrics(std::uint64_t id) {
  std::vector<int> asked;
  for (const auto& slot : slots_)
    if (slot->ask_metrics(id)) asked.push_back(slot->number());
  return asked;
}

}  // namespace handoff
