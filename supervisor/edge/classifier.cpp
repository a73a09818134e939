#include "supervisor/edge/classifier.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <string>

#include "supervisor/platform/platform.h"

namespace handoff {
namespace {

using Clock = HeadIntake::Clock;

uv_os_sock_t socket_of(const Connection& c) { return c.socket.descriptor(); }

}  // namespace

Classifier::Classifier(uv_loop_t* loop, Settings settings, OnClassified on_classified, OnRejected on_rejected)
    : loop_(loop),
      peek_(platform::can_peek() && !std::getenv("HANDOFF_CLASSIFY_BY_READING")),
      on_classified_(std::move(on_classified)), on_rejected_(std::move(on_rejected)),
      intake_(settings, *this), timer_(loop_) {}

Classifier::~Classifier() = default;  // pending connections close with their handles

void Classifier::add(ConnectionPtr connection) {
  const IntakeId id = next_id_++;
  const bool was_empty = intake_.size() == 0;
  HeadIntake::Arrival arrival{connection->carried, connection->handed_back};
  auto& w = *(watches_[id] = std::make_unique<Watch>());
  w.owner = this;
  w.id = id;
  w.connection = std::move(connection);
  intake_.added(id, std::move(arrival), Clock::now());  // the oldest may make room (closed)
  if (!peek_) {
    intake_.arrived(id, {});  // decides on what was carried
  } else if (w.connection->handed_back && w.connection->carried.empty()) {
    // A keep-alive connection back from the output cache or a draining worker: its client
    // has mostly not spoken yet, so a first look would find nothing. The poll tells when
    // it does (at once if the bytes are already there).
    waiting(id, 0);
  } else {
    // Most clients send the head with their first segment, and a listener that reads heads
    // accepts once data is there (TCP_DEFER_ACCEPT): the first look needs no poll handle,
    // whose set-up and close cost four system calls (waiting() makes it when it must wait).
    peek(w, false);
  }
  // The timer only for a connection still here (one classified at once needs none); one
  // that came while others wait finds it armed (it re-arms itself while any is left).
  if (was_empty && intake_.size() > 0) arm_timer();
}

bool Classifier::watch_readable(Watch& w) {
  w.poll = UvHandle<uv_poll_t>::make();
  if (uv_poll_init_socket(loop_, w.poll.get(), socket_of(*w.connection)) != 0) {
    w.poll = {};
    return false;
  }
  w.poll.mark_initialized();
  w.poll->data = &w;
  return true;
}

void Classifier::peek(Watch& w, bool peer_closed) {
  const std::size_t room = intake_.peek_length(w.id);
  // One scratch buffer (one loop thread); the machine keeps only what came. A fresh
  // max_head-sized buffer per connection would be allocated and zeroed on the accept path.
  static std::string scratch;
  if (scratch.size() < room) scratch.resize(room);
  const long n = platform::peek_socket(socket_of(*w.connection), scratch.data(), room);
  if (n < 0 && n != UV_EAGAIN) return intake_.lost(w.id);
  const std::size_t seen = n > 0 ? static_cast<std::size_t>(n) : 0;
  intake_.peeked(w.id, std::string_view(scratch.data(), seen), n == 0 || peer_closed);
}

void Classifier::start_reading(Watch& w) {
  w.reading = true;
  uv_stream_t* stream = w.connection->socket.stream();
  if (!stream) return intake_.lost(w.id);
  stream->data = &w;
  const int rc = uv_read_start(
      stream,
      [](uv_handle_t*, std::size_t, uv_buf_t* buf) {
        static char chunk[16 * 1024];  // one loop thread; each read is copied out at once
        *buf = uv_buf_init(chunk, sizeof chunk);
      },
      [](uv_stream_t* st, ssize_t n, const uv_buf_t* buf) {
        auto* watch = static_cast<Watch*>(st->data);
        HeadIntake& intake = watch->owner->intake_;
        if (n == UV_EOF) intake.peer_closed(watch->id);
        else if (n < 0) intake.lost(watch->id);
        else if (n > 0) intake.arrived(watch->id, std::string_view(buf->base, static_cast<std::size_t>(n)));
      });
  if (rc != 0) intake_.lost(w.id);
}

bool Classifier::proxied(IntakeId id, const ProxyHeader& h, std::size_t in_kernel) {
  Connection& c = *watches_.at(id)->connection;
  if (in_kernel > 0 && platform::discard_socket(socket_of(c), in_kernel) != static_cast<long>(in_kernel)) return false;
  // Behind a load balancer, the client is the one the PROXY header names.
  if (!h.local) {
    std::memcpy(c.address.data(), h.address.data(), h.address_length);
    c.address_length = h.address_length;
    c.address_text = h.address_text;
    c.port = h.port;
  }
  return true;
}

void Classifier::waiting(IntakeId id, std::size_t in_kernel) {
  Watch& w = *watches_.at(id);
  if (!peek_) {
    if (!w.reading) start_reading(w);  // the next bytes come to the read callback
    return;
  }
  if (!w.poll && !watch_readable(w)) return intake_.lost(id);
  // Wake only when more than what we saw is there (reset to 1 when released). Nothing
  // seen yet (an idle keep-alive connection the cache answered): 1, the default, is right.
  if (in_kernel > 0 || w.low_water) {
    platform::set_receive_low_water(socket_of(*w.connection), in_kernel + 1);
    w.low_water = true;
  }
  if (uv_is_active(w.poll.base())) return;
  const int rc = uv_poll_start(w.poll.get(), UV_READABLE | UV_DISCONNECT, [](uv_poll_t* handle, int status, int events) {
    auto* watch = static_cast<Watch*>(handle->data);
    if (status < 0) return watch->owner->intake_.lost(watch->id);
    watch->owner->peek(*watch, (events & UV_DISCONNECT) != 0);
  });
  if (rc != 0) intake_.lost(id);
}

ConnectionPtr Classifier::release(IntakeId id) {
  auto it = watches_.find(id);
  Watch& w = *it->second;
  if (w.reading) {
    uv_stream_t* stream = w.connection->socket.stream();  // a handle since start_reading
    uv_read_stop(stream);
    stream->data = nullptr;
  }
  if (w.poll) w.poll.reset();
  if (w.low_water) platform::set_receive_low_water(socket_of(*w.connection), 1);
  ConnectionPtr connection = std::move(w.connection);
  watches_.erase(it);
  return connection;
}

void Classifier::classified(IntakeId id, const RequestHead* head, std::string_view taken) {
  ConnectionPtr connection = release(id);
  connection->carried.assign(taken);  // read bytes are the connection's now: the worker gets them
  connection->asked = !connection->carried.empty() || head != nullptr;
  on_classified_(std::move(connection), head);
}

void Classifier::rejected(IntakeId id, int status) {
  ConnectionPtr connection = release(id);
  connection->asked = true;  // the machine knows: no need to look at the socket again
  on_rejected_(std::move(connection), status);
}

void Classifier::closed(IntakeId id) { release(id); }

void Classifier::arm_timer() {
  const auto next = intake_.next_deadline();
  if (!next) return;
  const auto wait = std::chrono::duration_cast<Milliseconds>(*next - Clock::now());
  timer_.start<[](Classifier& me) {
    const auto now = Clock::now();
    if (me.peek_)
      for (const IntakeId id : me.intake_.idle_due(now))
        if (auto it = me.watches_.find(id); it != me.watches_.end()) me.peek(*it->second, false);
    me.intake_.tick(now);
    me.arm_timer();
  }>(this, static_cast<std::uint64_t>(std::max<Milliseconds::rep>(wait.count(), 0)) + 1);
}

}  // namespace handoff
