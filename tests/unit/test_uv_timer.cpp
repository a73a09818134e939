// uvglue's Timer on a real libuv loop: what fires, what a close silences, what keeps the
// loop running.
#include <doctest/doctest.h>

#include <memory>
#include <optional>

#include "uvglue/timer.h"

using handoff::Timer;

namespace {

struct Loop {
  uv_loop_t loop{};
  Loop() { uv_loop_init(&loop); }
  ~Loop() {
    uv_run(&loop, UV_RUN_DEFAULT);  // the close callbacks
    CHECK(uv_loop_close(&loop) == 0);
  }
  void run() { uv_run(&loop, UV_RUN_DEFAULT); }
};

struct Owner {
  Timer timer;
  int fired = 0;
  int stop_after = 1;
  void on_timer() {
    if (++fired >= stop_after) timer.stop();
  }
};

}  // namespace

TEST_CASE("a member callback fires once, with its owner") {
  Loop l;
  Owner o{Timer(&l.loop)};
  CHECK_FALSE(o.timer.active());
  o.timer.start<&Owner::on_timer>(&o, 1);
  CHECK(o.timer.active());
  l.run();
  CHECK(o.fired == 1);
  CHECK_FALSE(o.timer.active());
}

TEST_CASE("a repeating timer fires until stopped; a lambda callback reaches the owner") {
  Loop l;
  Owner o{Timer(&l.loop)};
  o.stop_after = 3;
  o.timer.start<[](Owner& me) { me.on_timer(); }>(&o, 0, 1);
  l.run();
  CHECK(o.fired == 3);
}

TEST_CASE("restarting replaces the previous start") {
  Loop l;
  Owner o{Timer(&l.loop)};
  o.timer.start<&Owner::on_timer>(&o, 60'000);
  o.timer.start<&Owner::on_timer>(&o, 1);
  l.run();  // returns long before a minute: one timer, re-armed
  CHECK(o.fired == 1);
}

TEST_CASE("a timer destroyed before it fires never calls back, and its handle closes") {
  Loop l;
  auto o = std::make_unique<Owner>(Owner{Timer(&l.loop)});
  o->timer.start<&Owner::on_timer>(o.get(), 1);
  o.reset();
  l.run();
  CHECK(uv_loop_alive(&l.loop) == 0);
}

TEST_CASE("the callback may destroy the timer and its owner") {
  Loop l;
  struct SelfDestroying {
    Timer timer;
    bool* gone;
    void on_timer() {
      *gone = true;
      delete this;
    }
  };
  bool gone = false;
  auto* s = new SelfDestroying{Timer(&l.loop), &gone};
  s->timer.start<&SelfDestroying::on_timer>(s, 1);
  l.run();
  CHECK(gone);
}

TEST_CASE("an unref'd timer does not keep the loop running") {
  Loop l;
  Owner o{Timer(&l.loop)};
  o.timer.start<&Owner::on_timer>(&o, 60'000, 60'000);
  o.timer.unref();
  l.run();  // returns at once
  CHECK(o.fired == 0);
  CHECK(o.timer.active());
  o.timer.reset();
  CHECK_FALSE(o.timer);
}

TEST_CASE("the std::function form: a one-shot callback may destroy its own timer") {
  Loop l;
  std::optional<Timer> timer{Timer(&l.loop)};
  int fired = 0;
  timer->start(1, 0, [&] {
    ++fired;
    timer.reset();
  });
  l.run();
  CHECK(fired == 1);
  CHECK_FALSE(timer);
}

TEST_CASE("the std::function form repeats, and a moved timer keeps its callback") {
  Loop l;
  Timer first(&l.loop);
  int fired = 0;
  Timer* current = nullptr;
  first.start(0, 1, [&] {
    if (++fired == 2) current->stop();
  });
  Timer moved = std::move(first);
  current = &moved;
  CHECK_FALSE(first);
  l.run();
  CHECK(fired == 2);
}
