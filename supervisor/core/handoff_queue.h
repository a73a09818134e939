// The per-slot queue of connections waiting to be handed to a worker, with Node's
// discipline: one handle in flight until the worker ACKs it (two fds in one read break
// Node's receiver: protocols/README.md), or as many as the worker's window (a C++ SDK
// worker takes each in its own read), and the master's copy released only after the ACK.
// (A NACKed handle is resent by the channel itself: ipc::ChannelEnd.)
//
// Pure: T is whatever the caller uses for a connection (a socket owner in the
// supervisor, an int in tests). Nothing here does I/O.
#pragma once

#include <boost/circular_buffer.hpp>

#include <algorithm>
#include <cstddef>
#include <optional>
#include <utility>
#include <vector>


namespace handoff {

template <class T>
class HandoffQueue {
 public:
  HandoffQueue() = default;
  // Items are owners (sockets): moved, never copied (and a vector of lanes moves them).
  HandoffQueue(const HandoffQueue&) = delete;
  HandoffQueue& operator=(const HandoffQueue&) = delete;
  HandoffQueue(HandoffQueue&& other) noexcept
      : items_(std::move(other.items_)), in_flight_(std::exchange(other.in_flight_, 0)) {}
  HandoffQueue& operator=(HandoffQueue&& other) noexcept {
    items_ = std::move(other.items_);
    in_flight_ = std::exchange(other.in_flight_, 0);
    return *this;
  }

  void push(T&& item) {
    if (items_.full()) items_.set_capacity(std::max<std::size_t>(16, items_.capacity() * 2));
    items_.push_back(std::move(item));
  }

  // Starts sending the next waiting item if fewer than `window` are in flight; returns it
  // for sending. (It stays where it is: the items in flight are the first in line.)
  T* begin_send(std::size_t window = 1) {
    if (in_flight_ >= window || in_flight_ == items_.size()) return nullptr;
    return &items_[in_flight_++];
  }
  // The item begin_send() returned could not go: first in line again.
  void cancel_send() {
    if (in_flight_ > 0) --in_flight_;
  }

  // The worker has the oldest item in flight (answers come in the order items went): it
  // goes (the caller took what it needed from in_flight() first). False if none was.
  bool ack() {
    if (in_flight_ == 0) return false;
    items_.pop_front();
    --in_flight_;
    return true;
  }

  // The worker is gone: everything it had not acknowledged, the items in flight first,
  // in arrival order, so it can be dispatched again.
  std::vector<T> take_all() {
    requeue_in_flight();
    return take_waiting();
  }

  // The worker that had the items in flight is gone without answering: they wait again at
  // the head of the queue, in the order they went, to be sent again to whoever serves
  // the slot next.
  void requeue_in_flight() { in_flight_ = 0; }

  // Waiting items only (those in flight stay), oldest first: for moving them elsewhere.
  std::vector<T> take_waiting() {
    std::vector<T> out;
    for (std::size_t i = in_flight_; i < items_.size(); ++i) out.push_back(std::move(items_[i]));
    items_.erase(items_.begin() + static_cast<std::ptrdiff_t>(in_flight_), items_.end());
    return out;
  }

  // The oldest waiting item, to check its age; pop_waiting removes it.
  T* oldest_waiting() { return waiting() == 0 ? nullptr : &items_[in_flight_]; }
  const T* oldest_waiting() const { return waiting() == 0 ? nullptr : &items_[in_flight_]; }
  std::optional<T> pop_waiting() {
    if (waiting() == 0) return std::nullopt;
    std::optional<T> out(std::move(items_[in_flight_]));
    items_.erase(items_.begin() + static_cast<std::ptrdiff_t>(in_flight_));
    return out;
  }

  // The oldest item in flight (the next answer's), if any.
  T* in_flight() { return in_flight_ == 0 ? nullptr : &items_.front(); }
  const T* in_flight() const { return in_flight_ == 0 ? nullptr : &items_.front(); }
  std::size_t in_flight_count() const { return in_flight_; }
  std::size_t waiting() const { return items_.size() - in_flight_; }
  std::size_t size() const { return items_.size(); }

 private:
  // The items in flight first (sent, oldest first), then those waiting: sending one only
  // moves the boundary (the hand-off path moves no item between containers). A ring
  // (grown when full), whose size and indexing cost next to nothing: std::deque's size()
  // alone cost about 100 instructions per connection (callgrind, bench/handoff-cost.sh).
  boost::circular_buffer<T> items_;
  std::size_t in_flight_ = 0;
};

}  // namespace handoff
