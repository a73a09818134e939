#include "connection.h"

#include <algorithm>
#include <string>
#include <utility>

#include "platform/platform.h"
#include "uvglue/read_buffer.h"
#include "uvglue/uv_write.h"

namespace handoff {

namespace {

// Stop reading from a peer that does not read its responses once this much is queued
// in the kernel-side backlog of libuv, and resume below half of it.
constexpr std::size_t kHighWater = 1 << 20;
constexpr std::size_t kLowWater = kHighWater / 2;

// After our FIN, how long the peer has to close its side. Closing earlier, with its
// unread bytes in our receive buffer, makes the kernel send RST, which can destroy the
// response still in flight to the peer.
constexpr unsigned kLingerMs = 2'000;

Connection* owner_of(uv_handle_t* handle) { return static_cast<Connection*>(handle->data); }

// The socket's peer as text and port (a standalone worker's client); empty if unknown.
std::pair<std::string, int> socket_peer(const uv_tcp_t* tcp) {
  sockaddr_storage address{};
  int length = sizeof address;
  if (uv_tcp_getpeername(tcp, reinterpret_cast<sockaddr*>(&address), &length) != 0) return {};
  char text[64] = {};
  if (address.ss_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(&address);
    if (uv_ip4_name(in, text, sizeof text) == 0) return {text, ntohs(in->sin_port)};
  } else if (address.ss_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&address);
    if (uv_ip6_name(in6, text, sizeof text) == 0) return {text, ntohs(in6->sin6_port)};
  }
  return {};
}

// The loop's time is taken once per iteration, and one iteration may serve thousands of
// connections: a timeout measured from that stale time would fire early by as long as the
// iteration took (tens of ms under a burst). Timeouts start from the real time.
std::uint64_t fresh_now(uv_loop_t* loop) {
  uv_update_time(loop);
  return uv_now(loop);
}

}  // namespace

Connection::Connection(uv_loop_t* loop, UvHandle<uv_tcp_t> tcp, HttpSession::AnyHandler handler,
                       const WorkerOptions& options, Owner& owner, std::uint64_t id, ipc::Conn conn,
                       std::function<bool(const Request&)> belongs, std::optional<ipc::CacheOffer> cache,
                       std::shared_ptr<cache_table::Reader> cache_table)
    : loop_(loop),
      tcp_(std::move(tcp)),
      session_(std::move(handler), options.limits, options.keep_alive_timeout_ms),
      options_(options),
      owner_(owner),
      id_(id),
      conn_(std::move(conn)),
      belongs_(std::move(belongs)),
      cache_(std::move(cache)),
      cache_table_(std::move(cache_table)) {}

void Connection::start() {
  tcp_->data = this;
  timer_ = Timer(loop_);
  if (!timer_) return close_now();
  // Responses leave as whole writes; Nagle's algorithm would only delay them.
  (void)uv_tcp_nodelay(tcp_.get(), 1);
  // An AsyncHandler's answer comes from some other callback of the loop.
  session_.on_async_output([this] { settle(); });
  last_activity_ = fresh_now(loop_);
  request_started_ = last_activity_;  // the first request's time counts from its arrival
  if (belongs_) session_.check_requests(belongs_);
  if (cache_) session_.offer_cache(*cache_, conn_.fill, cache_table_);
  // Who the requests come from: the master's word (a PROXY protocol source stays the
  // client's across hand-backs), else, standalone, the socket's peer.
  if (!conn_.remote_address.empty()) {
    session_.set_peer(conn_.remote_address, conn_.remote_port);
  } else {
    auto [address, port] = socket_peer(tcp_.get());
    session_.set_peer(std::move(address), port);
  }
  // Bytes the master read from this socket (a handback, or where it cannot peek) come
  // before anything the socket holds: nothing is read from it before this returns.
  if (!conn_.head.empty()) session_.feed(std::exchange(conn_.head, {}));
  set_reading(true);
  settle();
}

void Connection::drain() {
  session_.drain();
  settle();
}

void Connection::hand_back_idle() {
  if (activity() != Activity::idle) return;
  // Every byte read so far went through the session, and it holds none of a next
  // request: stop reading, and whatever the client sends from now on stays in the
  // kernel for the master (and the successor) to read. Nothing is lost, nothing reset.
  set_reading(false);
  hand_back();
}

Connection::Activity Connection::activity() const {
  if (session_.handing_back()) return Activity::detached;
  if (writes_in_flight_ == 0 && !session_.has_output() && session_.between_requests()) return Activity::idle;
  return Activity::busy;
}

void Connection::report(Activity activity) {
  if (activity == reported_) return;
  reported_ = activity;
  owner_.activity_changed(this, activity);
}

void Connection::close_now() {
  // A `fill` request left unanswered still owes the master its cache_pass.
  session_.close();
  pass_cache_notes();
  tcp_.reset();
  timer_.reset();
  owner_.connection_closed(this);  // destroys this
}

void Connection::on_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) {
  auto* self = owner_of(reinterpret_cast<uv_handle_t*>(stream));
  if (self == nullptr) return;
  if (nread > 0) {
    self->last_activity_ = uv_now(self->loop_);
    self->session_.feed({buf->base, static_cast<std::size_t>(nread)});  // ignored once closing
  } else if (nread == UV_EOF) {
    self->eof_ = true;
    self->session_.finish();
  } else if (nread < 0) {
    self->broken_ = true;
  }
  self->settle();
}

void Connection::on_write(UvWrite& write, int status) {
  auto* self = owner_of(reinterpret_cast<uv_handle_t*>(write.stream()));
  if (self == nullptr) return;  // the connection closed with this write queued
  --self->writes_in_flight_;
  if (status < 0) self->broken_ = true;
  self->last_activity_ = uv_now(self->loop_);
  self->settle();
}

void Connection::on_shutdown(uv_shutdown_t* req, int status) {
  auto* self = owner_of(reinterpret_cast<uv_handle_t*>(req->handle));
  delete req;
  if (self == nullptr) return;
  if (status < 0) self->broken_ = true;
  self->shutdown_done_ = true;
  self->settle();
}

void Connection::on_timer() {
  switch (wait_) {
    case Wait::head:
    case Wait::body:
      session_.timeout();  // 408, then the closing path
      wait_ = Wait::nothing;
      return settle();
    case Wait::first_request:  // no byte of a request came: nothing to answer
    case Wait::keep_alive:
    case Wait::closing:
    case Wait::linger:
      return close_now();
    case Wait::nothing:
      return;
  }
}

void Connection::settle() {
  if (!broken_) flush();
  // Parse what the session held back while its earlier responses were written. Each
  // round either consumes everything held or produces max_pending_output bytes.
  while (!broken_ && session_.paused() && uv_stream_get_write_queue_size(tcp_.stream()) <= kLowWater) {
    session_.resume();
    flush();
  }
  pass_cache_notes();
  if (const std::size_t n = session_.requests(); n != counted_) {
    owner_.responses_produced(n - counted_);
    counted_ = n;
  }
  if (const std::size_t n = session_.table_hits(); n != counted_hits_) {
    owner_.table_hits(n - counted_hits_);
    counted_hits_ = n;
  }
  if (broken_) return close_now();
  if (session_.handing_back()) {
    // Not a byte more is read (it stays in the kernel, for the master); the socket goes
    // once the responses before that request are written.
    set_reading(false);
    set_wait(Wait::nothing);
    if (writes_in_flight_ == 0 && !session_.has_output()) return hand_back();
    return report(Activity::detached);
  }
  if (session_.closing()) {
    report(Activity::busy);  // it closes by itself: a drain leaves it alone
    return begin_close();
  }

  // While a response is awaited the session would only hold what we read.
  const std::size_t queued = uv_stream_get_write_queue_size(tcp_.stream());
  if (session_.paused() || session_.waiting() || queued > kHighWater)
    set_reading(false);
  else if (queued <= kLowWater)
    set_reading(true);

  // A request after the first has begun: its timeouts count from now (the read that
  // brought its first byte), and the timer restarts even if the kind of wait is the same
  // (the next pipelined head behind a head).
  bool new_request = false;
  if (const std::size_t begun = session_.requests_begun(); begun != requests_begun_) {
    if (requests_begun_ != 0 || session_.requests() != 0) {
      request_started_ = fresh_now(loop_);
      new_request = true;
    }
    requests_begun_ = begun;
  }

  if (session_.waiting())
    set_wait(Wait::nothing);  // the handler owns the time
  else if (!session_.idle())
    set_wait(session_.receiving_head() ? Wait::head : Wait::body, new_request);
  else if (writes_in_flight_ != 0)
    set_wait(Wait::nothing);  // a slow reader is bounded by back-pressure, not by time
  else if (session_.requests() == 0)
    set_wait(Wait::first_request);
  else
    set_wait(Wait::keep_alive);
  report(activity());  // last: a draining owner may hand an idle connection back now
}

void Connection::flush() {
  if (!session_.has_output()) return;
  auto write = std::make_unique<UvWrite>();
  for (auto& r : session_.take_output()) {
    write->add(std::move(r.head));
    write->add(std::move(r.body));
  }
  const std::size_t bytes = write->size();
  if (UvWrite::start(std::move(write), tcp_.stream(), on_write) != 0) {
    broken_ = true;
    return;
  }
  ++writes_in_flight_;
  owner_.bytes_written(bytes);
}

void Connection::pass_cache_notes() {
  if (!session_.has_cache_notes()) return;
  for (auto& note : session_.take_cache_notes()) owner_.cache_note(std::move(note));
}

void Connection::begin_close() {
  if (!shutdown_started_) {
    shutdown_started_ = true;
    // Every byte written already (the common case: a response written at once): FIN now.
    if (tcp_->write_queue_size == 0 && platform::shutdown_now(tcp_.get())) {
      shutdown_done_ = true;
      return begin_close();
    }
    // Else uv_shutdown waits for the queued writes, then sends FIN.
    auto* req = new uv_shutdown_t{};
    if (uv_shutdown(req, tcp_.stream(), on_shutdown) != 0) {
      delete req;
      return close_now();
    }
  }
  if (shutdown_done_ && eof_) return close_now();
  // Keep reading, and discarding, until the peer's FIN (see kLingerMs).
  set_reading(!eof_);
  set_wait(shutdown_done_ ? Wait::linger : Wait::closing);
}

void Connection::hand_back() {
  timer_.reset();
  tcp_->data = nullptr;  // no callback of ours runs for it any more
  ipc::Handback message{.id = conn_.id,
                        .remote_address = conn_.remote_address,
                        .remote_port = conn_.remote_port,
                        .listener = conn_.listener,
                        .head = session_.take_handback_bytes()};
  owner_.hand_back(this, std::move(tcp_), std::move(message));  // destroys this
}

void Connection::set_reading(bool on) {
  if (on == reading_) return;
  const int rc = on ? uv_read_start(tcp_.stream(), alloc_read_buffer, on_read) : uv_read_stop(tcp_.stream());
  if (rc == 0) reading_ = on;
  else if (on) broken_ = true;  // seen by the next settle(); the socket is unusable
}

void Connection::set_wait(Wait wait, bool restart) {
  if (wait == wait_ && !restart) return;
  wait_ = wait;
  std::uint64_t ms = 0;
  switch (wait) {
    case Wait::keep_alive: ms = options_.keep_alive_timeout_ms; break;
    case Wait::first_request: ms = request_deadline_ms(options_.headers_timeout_ms); break;
    case Wait::head: {
      // The head must also arrive within request_timeout, should that be the shorter.
      const unsigned h = options_.headers_timeout_ms, r = options_.request_timeout_ms;
      ms = request_deadline_ms(h == 0 ? r : r == 0 ? h : std::min(h, r));
      break;
    }
    case Wait::body: ms = request_deadline_ms(options_.request_timeout_ms); break;
    case Wait::closing: ms = options_.request_timeout_ms; break;
    case Wait::linger: ms = kLingerMs; break;
    case Wait::nothing: break;
  }
  if (ms == 0) {
    timer_.stop();
  } else {
    uv_update_time(loop_);  // see fresh_now()
    timer_.start<&Connection::on_timer>(this, ms);
  }
}

// Milliseconds left until the current request's start + timeout_ms; 0 (no timer) when
// timeout_ms is 0, and at least 1 when already past (0 would mean no timer).
std::uint64_t Connection::request_deadline_ms(std::uint64_t timeout_ms) const {
  if (timeout_ms == 0) return 0;
  const std::uint64_t elapsed = fresh_now(loop_) - request_started_;
  return elapsed >= timeout_ms ? 1 : timeout_ms - elapsed;
}

}  // namespace handoff
