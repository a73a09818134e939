// The scoreboard segment through the platform's shared memory (a /dev/shm object on Linux,
// a native section on Windows; unit-tests.exe runs this under wine): what the master
// creates, a second mapping (a worker's, `status`) sees; the name is taken while it
// exists; only its user may open it; it is gone once removed and unmapped.
#include <doctest/doctest.h>

#include <chrono>
#include <string>

#include "protocols/scoreboard_segment.h"
#include "supervisor/platform/service.h"

namespace sb = handoff::scoreboard;

namespace {

std::string unique_name() {
  const auto now = std::chrono::steady_clock::now().time_since_epoch().count();
  return "handoff-unit-" + std::to_string(handoff::platform::current_pid()) + "-" + std::to_string(now);
}

}  // namespace

TEST_CASE("scoreboard segment: created, shared with a second mapping, owner-only, removed") {
  const std::string name = unique_name();
  std::string error;
  auto master = sb::Segment::create(name, 8, 4242, 1000, error);
  REQUIRE_MESSAGE(master, error);
  CHECK(master->name() == name);
  CHECK(master->header()->master_pid.load() == 4242);

  // Only this process's user: mode 0600, or a DACL with one entry, this user's SID.
  const std::string access = master->access();
  CHECK_MESSAGE((access == "0600" || access.rfind("D:P(A;;GA;;;S-1-", 0) == 0), access);
  CHECK_MESSAGE(access.find(")(") == std::string::npos, "one entry only: ", access);

  {
    auto worker = sb::Segment::open(name, true, error);
    REQUIRE_MESSAGE(worker, error);
    const auto index = sb::allocate(master->header(), "hello", 1);
    REQUIRE(index);
    sb::Record* mine = sb::record(worker->header(), *index);
    REQUIRE(mine);
    CHECK(sb::describes(*mine, "hello", 1));  // the worker sees what the master wrote
    mine->requests.store(7);
    CHECK(sb::record(master->header(), *index)->requests.load() == 7);  // and the master sees the worker's

    std::string exists;
    CHECK_FALSE(sb::Segment::create(name, 8, 1, 1, exists));  // the name is taken
    CHECK_FALSE(exists.empty());
  }

  std::string why;
  CHECK_FALSE(sb::Segment::open("handoff-unit-no-such-segment", false, why));
  CHECK_FALSE(why.empty());

  master.reset();
  std::string unused;
  sb::Segment::remove(name, unused);  // POSIX unlinks; Windows: gone with the last handle
  CHECK_FALSE(sb::Segment::open(name, false, why));
}
