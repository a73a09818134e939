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
  CHECK(q.ack() == 1);
  REQUIRE(q.begin_send() != nullptr);
  CHECK(*q.in_flight() == 2);
  CHECK(q.ack() == 2);
  CHECK(q.size() == 0);
}

TEST_CASE("a NACKed item is resent three times, then stays in flight for the worker's replacement") {
  HandoffQueue<int> q;
  q.push(7);
  q.begin_send();
  for (int i = 0; i < HandoffQueue<int>::kMaxNacks; ++i) {
    int* again = q.nack();
    REQUIRE(again != nullptr);
    CHECK(*again == 7);
  }
  CHECK(q.nack() == nullptr);
  REQUIRE(q.in_flight() != nullptr);
  q.requeue_in_flight();  // the worker was killed for it
  CHECK(q.begin_send() != nullptr);
  CHECK(*q.in_flight() == 7);
  CHECK(q.nack() != nullptr);  // a new worker gets its own resends
}

TEST_CASE("a lost worker's items come back, in-flight first, nothing dropped") {
  HandoffQueue<int> q;
  for (int i = 1; i <= 4; ++i) q.push(i);
  q.begin_send();
  CHECK(q.take_all() == std::vector<int>{1, 2, 3, 4});
  CHECK(q.size() == 0);
  CHECK(q.in_flight() == nullptr);
}

TEST_CASE("NACK counting restarts for each item") {
  HandoffQueue<int> q;
  q.push(1);
  q.push(2);
  q.begin_send();
  q.nack();
  q.nack();
  q.ack();
  q.begin_send();
  for (int i = 0; i < HandoffQueue<int>::kMaxNacks; ++i) CHECK(q.nack() != nullptr);
}

TEST_CASE("requeue puts the unanswered item back at the head; take_waiting leaves it in flight") {
  HandoffQueue<int> q;
  for (int i = 1; i <= 3; ++i) q.push(i);
  q.begin_send();
  q.requeue_in_flight();
  CHECK(q.in_flight() == nullptr);
  CHECK(*q.oldest_waiting() == 1);
  q.begin_send();
  CHECK(q.take_waiting() == std::vector<int>{2, 3});
  CHECK(*q.in_flight() == 1);
  CHECK(q.pop_waiting() == std::nullopt);
}
