#include <doctest/doctest.h>

#include "supervisor/core/handoff_queue.h"

using handoff::HandoffQueue;

TEST_CASE("one item in flight until its ACK, in arrival order") {
  HandoffQueue<int> q;
  q.push(1);
  q.push(2);
  REQUIRE(q.begin_send() != nullptr);
  CHECK(*q.in_flight() == 1);
  CHECK(q.begin_send() == nullptr);  // the second waits for the first ACK
  CHECK(q.ack());
  REQUIRE(q.begin_send() != nullptr);
  CHECK(*q.in_flight() == 2);
  CHECK(q.ack());
  CHECK(q.size() == 0);
  CHECK(!q.ack());  // nothing in flight
}

// Resending a NACKed handle is the channel's (ipc::ChannelEnd, tests in test_channel_end.cpp).
TEST_CASE("an item its worker refused stays in flight until the worker is gone, then goes first") {
  HandoffQueue<int> q;
  q.push(7);
  q.push(8);
  q.begin_send();
  CHECK(q.begin_send() == nullptr);
  REQUIRE(q.in_flight() != nullptr);
  q.requeue_in_flight();  // the worker was killed for it
  CHECK(q.begin_send() != nullptr);
  CHECK(*q.in_flight() == 7);
}

TEST_CASE("a lost worker's items come back, in-flight first, nothing dropped") {
  HandoffQueue<int> q;
  for (int i = 1; i <= 4; ++i) q.push(int{i});
  q.begin_send();
  CHECK(q.take_all() == std::vector<int>{1, 2, 3, 4});
  CHECK(q.size() == 0);
  CHECK(q.in_flight() == nullptr);
}

TEST_CASE("requeue puts the unanswered item back at the head; take_waiting leaves it in flight") {
  HandoffQueue<int> q;
  for (int i = 1; i <= 3; ++i) q.push(int{i});
  q.begin_send();
  q.requeue_in_flight();
  CHECK(q.in_flight() == nullptr);
  CHECK(*q.oldest_waiting() == 1);
  q.begin_send();
  CHECK(q.take_waiting() == std::vector<int>{2, 3});
  CHECK(*q.in_flight() == 1);
  CHECK(q.pop_waiting() == std::nullopt);
}

TEST_CASE("a window: up to that many in flight, ACKs settle the oldest, a lost worker's come back in order") {
  HandoffQueue<int> q;
  for (int i = 1; i <= 5; ++i) q.push(int{i});
  CHECK(*q.begin_send(3) == 1);
  CHECK(*q.begin_send(3) == 2);
  CHECK(*q.begin_send(3) == 3);
  CHECK(q.begin_send(3) == nullptr);  // the window is full
  CHECK(q.in_flight_count() == 3);
  CHECK(*q.in_flight() == 1);  // the next answer's
  CHECK(q.ack());
  CHECK(*q.in_flight() == 2);
  CHECK(*q.begin_send(3) == 4);
  q.cancel_send();  // 4 could not go: first in line again
  CHECK(*q.oldest_waiting() == 4);
  CHECK(q.in_flight_count() == 2);
  q.requeue_in_flight();  // the worker is gone: 2 and 3 go first, in the order they went
  CHECK(q.take_waiting() == std::vector<int>{2, 3, 4, 5});
}
