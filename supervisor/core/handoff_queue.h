// The per-slot queue of connections waiting to be handed to a worker, with Node's
// discipline: one handle in flight until the worker ACKs it (two fds in one read break
// Node's receiver: protocols/README.md), or as many as the worker's window (a C++ SDK
// worker takes each in its own read), and the master's copy released only after the ACK.
// (A NACKed handle is resent by the channel itself: ipc::ChannelEnd.)
//
// Pure: T is whatever the caller uses for a connection (a socket owner in the
// supervisor, an int in tests). Nothing here does I/O.
#pragma once

#include <cstddef>
#include <deque>
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
  HandoffQueue(HandoffQueue&&) = default;
  HandoffQueue& operator=(HandoffQueue&&) = default;

  void push(T item) { waiting_.push_back(std::move(item)); }

  // Starts sending the next waiting item if fewer than `window` are in flight; returns it
  // for sending.
  T* begin_send(std::size_t window = 1) {
    if (in_flight_.size() >= window || waiting_.empty()) return nullptr;
    in_flight_.push_back(std::move(waiting_.front()));
    waiting_.pop_front();
    return &in_flight_.back();
  }
  // The item begin_send() returned could not go: first in line again.
  void cancel_send() {
    if (in_flight_.empty()) return;
    waiting_.push_front(std::move(in_flight_.back()));
    in_flight_.pop_back();
  }

  // The worker has the oldest item in flight (answers come in the order items went):
  // returns it so the caller can close its copy.
  std::optional<T> ack() {
    if (in_flight_.empty()) return std::nullopt;
    std::optional<T> out(std::move(in_flight_.front()));
    in_flight_.pop_front();
    return out;
  }

  // The worker is gone: everything it had not acknowledged, the items in flight first,
  // in arrival order, so it can be dispatched again.
  std::vector<T> take_all() {
    requeue_in_flight();
    return take_waiting();
  }

  // The worker that had the items in flight is gone without answering: they go back to
  // the head of the queue, in the order they went, to be sent again to whoever serves
  // the slot next.
  void requeue_in_flight() {
    while (!in_flight_.empty()) {
      waiting_.push_front(std::move(in_flight_.back()));
      in_flight_.pop_back();
    }
  }

  // Waiting items only (those in flight stay), oldest first: for moving them elsewhere.
  std::vector<T> take_waiting() {
    std::vector<T> out;
    for (auto& item : waiting_) out.push_back(std::move(item));
    waiting_.clear();
    return out;
  }

  // The oldest waiting item, to check its age; pop_waiting removes it.
  T* oldest_waiting() { return waiting_.empty() ? nullptr : &waiting_.front(); }
  const T* oldest_waiting() const { return waiting_.empty() ? nullptr : &waiting_.front(); }
  std::optional<T> pop_waiting() {
    if (waiting_.empty()) return std::nullopt;
    std::optional<T> out(std::move(waiting_.front()));
    waiting_.pop_front();
    return out;
  }

  // The oldest item in flight (the next answer's), if any.
  T* in_flight() { return in_flight_.empty() ? nullptr : &in_flight_.front(); }
  const T* in_flight() const { return in_flight_.empty() ? nullptr : &in_flight_.front(); }
  std::size_t in_flight_count() const { return in_flight_.size(); }
  std::size_t waiting() const { return waiting_.size(); }
  std::size_t size() const { return waiting_.size() + in_flight_.size(); }

 private:
  std::deque<T> waiting_;
  std::deque<T> in_flight_;  // sent, oldest first
};

}  // namespace handoff
