// The per-slot queue of connections waiting to be handed to a worker, with Node's
// discipline: one handle in flight until the worker ACKs it (two fds in one read break
// Node's receiver: protocols/README.md), and the master's copy released only after the
// ACK. (A NACKed handle is resent by the channel itself: ipc::ChannelEnd.)
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
  void push(T item) { waiting_.push_back(std::move(item)); }

  // Starts sending the next waiting item if none is in flight; returns it for sending.
  T* begin_send() {
    if (in_flight_ || waiting_.empty()) return nullptr;
    in_flight_.emplace(std::move(waiting_.front()));
    waiting_.pop_front();
    return &*in_flight_;
  }

  // The worker has it: returns the item so the caller can close its copy.
  std::optional<T> ack() { return take_in_flight(); }

  // The worker is gone: everything it had not acknowledged, the in-flight item first,
  // in arrival order, so it can be dispatched again.
  std::vector<T> take_all() {
    std::vector<T> out;
    if (auto item = take_in_flight()) out.push_back(std::move(*item));
    for (auto& item : waiting_) out.push_back(std::move(item));
    waiting_.clear();
    return out;
  }

  // The worker that had the in-flight item is gone without answering: the item goes back
  // to the head of the queue, to be sent again to whoever serves the slot next.
  void requeue_in_flight() {
    if (auto item = take_in_flight()) waiting_.push_front(std::move(*item));
  }

  // Waiting items only (the in-flight one stays), oldest first: for moving them elsewhere.
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

  T* in_flight() { return in_flight_ ? &*in_flight_ : nullptr; }
  const T* in_flight() const { return in_flight_ ? &*in_flight_ : nullptr; }
  std::size_t waiting() const { return waiting_.size(); }
  std::size_t size() const { return waiting_.size() + (in_flight_ ? 1 : 0); }

 private:
  std::optional<T> take_in_flight() {
    std::optional<T> out = std::move(in_flight_);
    in_flight_.reset();
    return out;
  }

  std::deque<T> waiting_;
  std::optional<T> in_flight_;
};

}  // namespace handoff
