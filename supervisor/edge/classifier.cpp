#include "supervisor/edge/classifier.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "supervisor/platform/platform.h"
#include "supervisor/core/routing/proxy_protocol.h"

namespace handoff {
namespace {

using Clock = std::chrono::steady_clock;

// Behind a load balancer, the client is the one the PROXY header names.
void adopt_source(Connection& c, const ProxyHeader& h) {
  std::memcpy(c.address.data(), h.address.data(), h.address_length);
  c.address_length = h.address_length;
  c.address_text = h.address_text;
  c.port = h.port;
}

}  // namespace

Classifier::Classifier(uv_loop_t* loop, Settings settings, OnClassified on_classified, OnRejected on_rejected)
    : loop_(loop),
      peek_(platform::can_peek() && !std::getenv("HANDOFF_CLASSIFY_BY_READING")),
      settings_(settings), on_classified_(std::move(on_classified)), on_rejected_(std::move(on_rejected)) {
  timer_ = UvHandle<uv_timer_t>::make();
  uv_timer_init(loop_, timer_.get());
  timer_.mark_initialized();
  timer_->data = this;
}

Classifier::~Classifier() = default;  // pending connections close with their handles

void Classifier::add(ConnectionPtr connection) {
  // Slowloris: the oldest connection still sending its head makes room for the new one.
  while (pending_.size() >= settings_.max_classifying && !pending_.empty()) fail(pending_.front(), 0);
  const bool was_empty = pending_.empty();
  auto& p = pending_.emplace_back();
  p.self = std::prev(pending_.end());
  p.owner = this;
  p.bytes = connection->carried;
  // A connection handed back by a worker passed its PROXY header long ago.
  p.proxy_done = !settings_.proxy_protocol || connection->handed_back || !connection->carried.empty();
  p.deadline = Clock::now() + settings_.head_timeout;
  p.connection = std::move(connection);
  if (!peek_) {
    p.reading = true;
    if (was_empty) arm_timer();
    return step_reading(p);
  }
  p.poll = UvHandle<uv_poll_t>::make();
  if (uv_poll_init_socket(loop_, p.poll.get(), platform::socket_of(p.connection->socket.get())) != 0) {
    p.poll = {};
    fail(p, 0);
    return;
  }
  p.poll.mark_initialized();
  p.poll->data = &p;
  if (was_empty) arm_timer();
  // Most clients send the head with their first segment: it is often there already.
  step(p, false);
}

void Classifier::step(Pending& p, bool peer_closed) {
  if (!p.proxy_done) {
    switch (read_proxy_header(p, peer_closed)) {
      case Progress::wait: return watch(p);
      case Progress::finished: return;
      case Progress::done: break;
    }
  }
  if (!settings_.read_head) return finish(p, nullptr);

  const uv_os_sock_t socket = platform::socket_of(p.connection->socket.get());
  const std::size_t carried = p.connection->carried.size();
  // One byte past the limit tells a head that is too long from one that just fits.
  const std::size_t room = settings_.max_head + 1 > carried ? settings_.max_head + 1 - carried : 1;
  // Peek into one scratch buffer (one loop thread) and keep only what came: a fresh
  // max_head-sized buffer per connection would be allocated and zeroed on the accept path.
  static std::string scratch;
  if (scratch.size() < room) scratch.resize(room);
  const long n = platform::peek_socket(socket, scratch.data(), room);
  if (n < 0 && n != UV_EAGAIN) return fail(p, 0);
  const std::size_t peeked = n > 0 ? static_cast<std::size_t>(n) : 0;
  p.bytes.resize(carried);  // what was carried stays; the peek's view replaces the rest
  p.bytes.append(scratch.data(), peeked);
  if (n == 0 && p.bytes.empty()) return fail(p, 0);  // closed before saying anything

  judge_head(p, p.bytes, n == 0 || peer_closed, peeked);
}

// Decides on the bytes seen so far, or waits for more.
void Classifier::judge_head(Pending& p, std::string_view bytes, bool ended, std::size_t seen) {
  auto parsed = parse_request_head(bytes, settings_.max_head);
  switch (parsed.status) {
    case HeadStatus::complete: return finish(p, &parsed.head);
    case HeadStatus::too_large: return fail(p, 431);
    case HeadStatus::malformed: return fail(p, 400);
    case HeadStatus::incomplete:
      // The client stopped sending in the middle of a head: nothing will complete it.
      if (ended) return fail(p, bytes.empty() ? 0 : 400);
      // Peeking: wake again only when more than what we saw is there.
      if (!p.reading) platform::set_receive_low_water(platform::socket_of(p.connection->socket.get()), seen + 1);
      return watch(p);
  }
}

void Classifier::step_reading(Pending& p) {
  std::string& got = p.connection->carried;
  if (!p.proxy_done) {
    const auto parsed =
        parse_proxy_header(std::span<const std::byte>(reinterpret_cast<const std::byte*>(got.data()), got.size()));
    if (parsed.status == ProxyStatus::invalid || (parsed.status == ProxyStatus::incomplete && p.ended))
      return fail(p, 0);
    if (parsed.status == ProxyStatus::incomplete) return watch(p);
    const auto& h = parsed.header;
    got.erase(0, h.length);
    if (!h.local) adopt_source(*p.connection, h);
    p.proxy_done = true;
  }
  if (!settings_.read_head) return finish(p, nullptr);
  judge_head(p, got, p.ended, got.size());
}

Classifier::Progress Classifier::read_proxy_header(Pending& p, bool peer_closed) {
  const uv_os_sock_t socket = platform::socket_of(p.connection->socket.get());
  char buffer[kMaxProxyHeader];
  const long n = platform::peek_socket(socket, buffer, sizeof buffer);
  if (n == UV_EAGAIN) return Progress::wait;
  if (n <= 0) {
    fail(p, 0);
    return Progress::finished;
  }
  const auto parsed =
      parse_proxy_header(std::span<const std::byte>(reinterpret_cast<const std::byte*>(buffer), static_cast<std::size_t>(n)));
  switch (parsed.status) {
    case ProxyStatus::incomplete:
      if (peer_closed || static_cast<std::size_t>(n) >= sizeof buffer) break;
      platform::set_receive_low_water(socket, static_cast<std::size_t>(n) + 1);
      return Progress::wait;
    case ProxyStatus::invalid: break;
    case ProxyStatus::complete: {
      const auto& h = parsed.header;
      if (platform::discard_socket(socket, h.length) != static_cast<long>(h.length)) break;
      platform::set_receive_low_water(socket, 1);
      if (!h.local) adopt_source(*p.connection, h);
      p.proxy_done = true;
      return Progress::done;
    }
  }
  // Without a valid header the connection did not come through our load balancer.
  fail(p, 0);
  return Progress::finished;
}

void Classifier::watch(Pending& p) {
  if (p.reading) {
    if (p.read_started) return;  // already reading: the next bytes come to step_reading
    p.read_started = true;
    uv_stream_t* stream = p.connection->socket.stream();
    stream->data = &p;
    const int rc = uv_read_start(
        stream,
        [](uv_handle_t*, std::size_t, uv_buf_t* buf) {
          static char chunk[16 * 1024];  // one loop thread; each read is copied out at once
          *buf = uv_buf_init(chunk, sizeof chunk);
        },
        [](uv_stream_t* st, ssize_t n, const uv_buf_t* buf) {
          auto* pending = static_cast<Pending*>(st->data);
          if (n == UV_EOF) pending->ended = true;
          else if (n < 0) return pending->owner->fail(*pending, 0);
          else pending->connection->carried.append(buf->base, static_cast<std::size_t>(n));
          if (n != 0) pending->owner->step_reading(*pending);
        });
    if (rc != 0) fail(p, 0);
    return;
  }
  if (uv_is_active(p.poll.base())) return;
  const int rc = uv_poll_start(p.poll.get(), UV_READABLE | UV_DISCONNECT, [](uv_poll_t* handle, int status, int events) {
    auto* pending = static_cast<Pending*>(handle->data);
    if (status < 0) return pending->owner->fail(*pending, 0);
    pending->owner->step(*pending, (events & UV_DISCONNECT) != 0);
  });
  if (rc != 0) fail(p, 0);
}

std::list<Classifier::Pending> Classifier::take(Pending& p) {
  // Stop watching before anyone else uses the socket: libuv allows one watcher per fd.
  if (p.reading) {
    uv_read_stop(p.connection->socket.stream());
    p.connection->socket->data = nullptr;
  } else {
    p.poll.reset();
    platform::set_receive_low_water(platform::socket_of(p.connection->socket.get()), 1);
  }
  std::list<Pending> out;
  out.splice(out.begin(), pending_, p.self);
  return out;
}

void Classifier::finish(Pending& p, const RequestHead* head) {
  auto done = take(p);  // keeps p.bytes, which `head` points into, alive during the call
  on_classified_(std::move(done.front().connection), head);
}

void Classifier::fail(Pending& p, int status) {
  auto done = take(p);
  if (status == 0) return;  // closed without an answer
  Pending& failed = done.front();
  // Bytes read off the socket are the connection's own now: asked_nothing() looks at them.
  if (failed.reading) failed.connection->carried = std::move(failed.bytes);
  // A socket a draining worker gave back idle whose client never spoke again ends like an
  // idle keep-alive connection: closed, no answer to a request nobody sent, nothing counted.
  if (asked_nothing(*failed.connection)) return;
  if (on_rejected_) on_rejected_(status);
  reject(std::move(failed.connection), status);
}

void Classifier::arm_timer() {
  if (pending_.empty()) return;
  const auto wait = std::chrono::duration_cast<Milliseconds>(pending_.front().deadline - Clock::now());
  uv_timer_start(
      timer_.get(),
      [](uv_timer_t* t) {
        auto* me = static_cast<Classifier*>(t->data);
        const auto now = Clock::now();
        while (!me->pending_.empty() && me->pending_.front().deadline <= now) me->fail(me->pending_.front(), 408);
        me->arm_timer();
      },
      static_cast<std::uint64_t>(std::max<Milliseconds::rep>(wait.count(), 0)) + 1, 0);
}

}  // namespace handoff
