#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "supervisor/core/rolling_reload.h"

using namespace handoff;
using Replace = SlotMachine::Replace;

namespace {

// Slots that answer replace() as told; records the roll's effects in order.
struct Slots final : RollingReload::Effects {
  std::vector<Replace> answers;  // by slot index
  std::vector<std::string> log;
  std::size_t slots() const override { return answers.size(); }
  Replace replace(std::size_t index) override {
    log.push_back("replace " + std::to_string(index));
    return answers[index];
  }
  void done() override { log.push_back("done"); }
  void aborted(std::size_t index) override { log.push_back("aborted " + std::to_string(index)); }
};

using Log = std::vector<std::string>;

}  // namespace

TEST_CASE("rolling reload: one slot at a time, each after the one before is ready") {
  Slots s;
  s.answers = {Replace::started, Replace::started, Replace::started};
  RollingReload roll(s);
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
  RollingReload roll(s);
  roll.start();
  CHECK(s.log == Log{"replace 0", "replace 1"});
  roll.replaced(1, true);
  CHECK(s.log == Log{"replace 0", "replace 1", "replace 2", "done"});
}

TEST_CASE("rolling reload: a replacement that is not ready, or cannot spawn, aborts the roll") {
  Slots s;
  s.answers = {Replace::started, Replace::started};
  RollingReload roll(s);
  roll.start();
  roll.replaced(0, false);
  CHECK(s.log == Log{"replace 0", "aborted 0"});
  CHECK_FALSE(roll.rolling());
  roll.replaced(0, true);  // too late: the roll is over
  CHECK(s.log.size() == 2);

  Slots f;
  f.answers = {Replace::started, Replace::failed, Replace::started};
  RollingReload spawn_fails(f);
  spawn_fails.start();
  spawn_fails.replaced(0, true);
  CHECK(f.log == Log{"replace 0", "replace 1", "aborted 1"});
}

TEST_CASE("rolling reload: replacements it did not start (recyclings) change nothing") {
  Slots s;
  s.answers = {Replace::started, Replace::started};
  RollingReload roll(s);
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
  RollingReload roll(s);
  roll.start();
  roll.replaced(0, true);
  roll.start();  // a second reload while slot 1 is being replaced
  CHECK(s.log == Log{"replace 0", "replace 1", "replace 0"});
  s.answers.pop_back();  // scaled down to one slot
  roll.replaced(0, true);
  CHECK(s.log.back() == "done");
  roll.stop();
  CHECK_FALSE(roll.rolling());
}
