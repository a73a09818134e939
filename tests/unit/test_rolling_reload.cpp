#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "supervisor/core/control/roll_wait.h"
#include "supervisor/core/scale_watch.h"

#include "supervisor/core/rolling_reload.h"

using namespace handoff;
using Replace = SlotMachine::Replace;

namespace {

// Slots that answer replace() as told; records the roll's effects in order. Slot i's
// worker has pid 100 + i, its replacement 200 + i.
struct Slots final : RollingReload::Effects {
  std::vector<Replace> answers;  // by slot index
  std::vector<std::string> log;
  std::vector<RollReport> reports;
  std::vector<bool> renewed = std::vector<bool>(8, false);
  std::size_t slots() const override { return answers.size(); }
  Replace replace(std::size_t index) override {
    log.push_back("replace " + std::to_string(index));
    if (answers[index] == Replace::started) renewed[index] = true;
    return answers[index];
  }
  std::optional<std::int64_t> pid(std::size_t index) const override {
    if (answers[index] == Replace::not_ready) return std::nullopt;
    return (renewed[index] ? 200 : 100) + static_cast<std::int64_t>(index);
  }
  std::string failure(std::size_t) const override { return "start_failure (exit 1)"; }
  void finished(const RollReport& report) override {
    reports.push_back(report);
    switch (report.outcome) {
      case RollReport::Outcome::rolled: log.push_back("done"); break;
      case RollReport::Outcome::aborted: log.push_back("aborted " + std::to_string(report.steps.back().slot - 1)); break;
      case RollReport::Outcome::superseded: log.push_back("superseded"); break;
      case RollReport::Outcome::stopped: log.push_back("stopped"); break;
      default: log.push_back("?"); break;
    }
  }
};

using Log = std::vector<std::string>;

}  // namespace

TEST_CASE("rolling reload: one slot at a time, each after the one before is ready") {
  Slots s;
  s.answers = {Replace::started, Replace::started, Replace::started};
  RollingReload roll(s, "hello");
  roll.start();
  CHECK(s.log == Log{"replace 0"});
  CHECK(roll.rolling());
  roll.replaced(0, true);
  CHECK(s.log == Log{"replace 0", "replace 1"});
  roll.replaced(1, true);
  roll.replaced(2, true);
  CHECK(s.log == Log{"replace 0", "replace 1", "replace 2", "done"});
  CHECK_FALSE(roll.rolling());
}

TEST_CASE("rolling reload: a slot without a ready worker is skipped (it starts with the new config)") {
  Slots s;
  s.answers = {Replace::not_ready, Replace::started, Replace::not_ready};
  RollingReload roll(s, "hello");
  roll.start();
  CHECK(s.log == Log{"replace 0", "replace 1"});
  roll.replaced(1, true);
  CHECK(s.log == Log{"replace 0", "replace 1", "replace 2", "done"});
}

TEST_CASE("rolling reload: a replacement that is not ready, or cannot spawn, aborts the roll") {
  Slots s;
  s.answers = {Replace::started, Replace::started};
  RollingReload roll(s, "hello");
  roll.start();
  roll.replaced(0, false);
  CHECK(s.log == Log{"replace 0", "aborted 0"});
  CHECK_FALSE(roll.rolling());
  roll.replaced(0, true);  // too late: the roll is over
  CHECK(s.log.size() == 2);

  Slots f;
  f.answers = {Replace::started, Replace::failed, Replace::started};
  RollingReload spawn_fails(f, "hello");
  spawn_fails.start();
  spawn_fails.replaced(0, true);
  CHECK(f.log == Log{"replace 0", "replace 1", "aborted 1"});
}

TEST_CASE("rolling reload: replacements it did not start (recyclings) change nothing") {
  Slots s;
  s.answers = {Replace::started, Replace::started};
  RollingReload roll(s, "hello");
  roll.replaced(0, true);  // no roll
  CHECK(s.log.empty());
  roll.start();
  roll.replaced(1, false);  // slot 1 recycled for max_rss while slot 0 rolls
  CHECK(roll.rolling());
  CHECK(s.log == Log{"replace 0"});
}

TEST_CASE("rolling reload: a new reload starts over; a scale during the roll changes where it ends") {
  Slots s;
  s.answers = {Replace::started, Replace::started};
  RollingReload roll(s, "hello");
  roll.start();
  roll.replaced(0, true);
  roll.start();  // a second reload while slot 1 is being replaced
  CHECK(s.log == Log{"replace 0", "replace 1", "superseded", "replace 0"});
  s.answers.pop_back();  // scaled down to one slot
  roll.replaced(0, true);
  CHECK(s.log.back() == "done");
  roll.stop();  // no roll under way: nothing to report
  CHECK_FALSE(roll.rolling());
  CHECK(s.log.back() == "done");
}

TEST_CASE("rolling reload: a scale-down that removes the slot being replaced ends the roll") {
  Slots s;
  s.answers = {Replace::started, Replace::started, Replace::started};
  RollingReload roll(s, "hello");
  roll.start();
  roll.replaced(0, true);
  roll.slots_changed();  // nothing removed yet: still waiting on slot 2
  CHECK(roll.rolling());
  s.answers.resize(1);  // slots 2 and 3 scaled away while slot 2 was being replaced
  roll.slots_changed();
  CHECK_FALSE(roll.rolling());
  REQUIRE(s.reports.size() == 1);
  CHECK(s.reports[0].outcome == RollReport::Outcome::rolled);
  CHECK(describe(s.reports[0]) == "hello: rolled 1/1 slots (pids 100->200)");
}

TEST_CASE("rolling reload: its report says which pid each slot had and has, and how it ended") {
  Slots s;
  s.answers = {Replace::started, Replace::not_ready, Replace::started};
  RollingReload roll(s, "hello");
  roll.start();
  CHECK(roll.report().outcome == RollReport::Outcome::unfinished);
  roll.replaced(0, true);
  roll.replaced(2, true);
  REQUIRE(s.reports.size() == 1);
  const RollReport& r = s.reports[0];
  CHECK(r.app == "hello");
  CHECK(r.outcome == RollReport::Outcome::rolled);
  CHECK(r.slots == 3);
  REQUIRE(r.steps.size() == 3);
  CHECK(r.steps[0].old_pid == 100);
  CHECK(r.steps[0].new_pid == 200);
  CHECK_FALSE(r.steps[1].replaced);
  CHECK(r.steps[2].new_pid == 202);
  CHECK(describe(r) ==
        "hello: rolled 2/3 slots (pids 100->200, 102->202; slot 2 had no ready worker and will start with the new config)");
  CHECK_FALSE(failed(r));
}

TEST_CASE("rolling reload: an aborted or stopped roll is reported with where it ended") {
  Slots s;
  s.answers = {Replace::started, Replace::started, Replace::started};
  RollingReload roll(s, "hello");
  roll.start();
  roll.replaced(0, true);
  roll.replaced(1, false);
  REQUIRE(s.reports.size() == 1);
  CHECK(s.reports[0].outcome == RollReport::Outcome::aborted);
  CHECK(describe(s.reports[0]) ==
        "hello: roll aborted at slot 2: start_failure (exit 1); 1/3 slots rolled (pids 100->200), the old workers keep "
        "serving the others");
  CHECK(failed(s.reports[0]));

  roll.start();
  roll.stop();
  REQUIRE(s.reports.size() == 2);
  CHECK(s.reports[1].outcome == RollReport::Outcome::stopped);
  CHECK(describe(s.reports[1]) == "hello: roll stopped at slot 1: the app is stopping; 0/3 slots rolled");
}

TEST_CASE("roll report: the lines of the other outcomes") {
  CHECK(describe(RollReport::of("api", RollReport::Outcome::unchanged)) == "api: unchanged");
  CHECK(describe(RollReport::of("web", RollReport::Outcome::added, 2)) == "web: added (2 slots starting)");
  CHECK(describe(RollReport::of("old", RollReport::Outcome::removed)) == "old: removed (its workers drain)");
  RollReport late = RollReport::of("hello", RollReport::Outcome::unfinished, 4);
  late.steps = {{1, 101, 201, true}, {2, 102, std::nullopt, true}};
  late.reason = "after waiting 5 s (it goes on)";
  CHECK(describe(late) == "hello: still rolling at slot 2 after waiting 5 s (it goes on); 1/4 slots rolled (pids 101->201)");
  CHECK(failed(late));
  CHECK_FALSE(failed(RollReport::of("api", RollReport::Outcome::unchanged)));
}

TEST_CASE("roll wait: answers once every roll it waits for ended; ok unless one failed") {
  control::RollWait wait;
  wait.add(RollReport::of("api", RollReport::Outcome::unchanged));
  wait.expect("hello");
  wait.expect("web");
  CHECK_FALSE(wait.complete());
  CHECK_FALSE(wait.take(RollReport::of("other", RollReport::Outcome::rolled)));
  RollReport web = RollReport::of("web", RollReport::Outcome::rolled, 1);
  web.steps = {{1, 5, 6, true}};
  CHECK(wait.take(web));
  CHECK_FALSE(wait.take(web));  // already taken
  CHECK_FALSE(wait.complete());
  RollReport hello = RollReport::of("hello", RollReport::Outcome::aborted, 2);
  hello.steps = {{1, 1, {}, true}};
  hello.reason = "start_failure (exit 1)";
  CHECK(wait.take(hello));
  CHECK(wait.complete());
  const auto reply = wait.reply();
  CHECK_FALSE(reply.ok);
  CHECK(reply.message ==
        "api: unchanged\n"
        "hello: roll aborted at slot 1: start_failure (exit 1); 0/2 slots rolled, the old workers keep serving the others\n"
        "web: rolled 1/1 slots (pids 5->6)");

  control::RollWait fine;
  fine.add(RollReport::of("api", RollReport::Outcome::unchanged));
  CHECK(fine.complete());
  CHECK(fine.reply().ok);
}

TEST_CASE("scale watch: added slots until their first worker is ready or fails, removed ones until gone") {
  ScaleWatch up("hello", 2, 4);
  CHECK(up.added(3));
  CHECK(up.added(4));
  CHECK_FALSE(up.added(2));
  CHECK_FALSE(up.removed(3));
  up.stopped(3);  // not a removed slot: ignored
  up.ready(3, 812);
  CHECK_FALSE(up.complete());
  CHECK(up.describe() == "hello: scaled 2 -> 4: slot 3 ready (pid 812), slot 4 not ready");
  up.ready(4, 813);
  CHECK(up.complete());
  CHECK(up.ok());
  CHECK(up.describe() == "hello: scaled 2 -> 4: slot 3 ready (pid 812), slot 4 ready (pid 813)");

  ScaleWatch broken("hello", 2, 3);
  broken.failed(3, "start_failure (exit code 1)");
  broken.ready(3, 9);  // later readiness does not undo the failure the command reports
  CHECK(broken.complete());
  CHECK_FALSE(broken.ok());
  CHECK(broken.describe() == "hello: scaled 2 -> 3: slot 3 failed to start: start_failure (exit code 1)");

  ScaleWatch down("hello", 4, 2);
  CHECK(down.removed(3));
  down.stopped(4);
  CHECK_FALSE(down.complete());
  down.interrupt("a newer scale came");
  CHECK(down.complete());
  CHECK_FALSE(down.ok());
  CHECK(down.describe() == "hello: scaled 4 -> 2: slot 4 stopped, slot 3 still draining (a newer scale came)");
  ScaleWatch gone("hello", 4, 2);
  gone.stopped(3);
  gone.stopped(4);
  CHECK(gone.ok());
  CHECK(gone.describe() == "hello: scaled 4 -> 2: slots 3, 4 stopped");
}

TEST_CASE("roll wait: a scale is waited for beside a roll of the same app") {
  control::RollWait wait;
  wait.expect("hello");
  wait.expect(control::scale_key("hello"));
  CHECK(wait.take(control::scale_key("hello"), true, "hello: scaled 1 -> 2: slot 2 ready (pid 7)"));
  CHECK_FALSE(wait.complete());
  CHECK(wait.take(RollReport::of("hello", RollReport::Outcome::rolled, 2)));
  CHECK(wait.complete());
  CHECK(wait.reply().ok);
  CHECK(wait.reply().message == "hello: rolled 0/2 slots\nhello: scaled 1 -> 2: slot 2 ready (pid 7)");
}
