// /proc/PID/stat lines as Linux prints them (x86-64), one of a command whose name holds
// spaces and parentheses.
#ifndef _WIN32
#include <doctest/doctest.h>

#include "supervisor/platform/posix/proc_stat.h"

using namespace handoff::platform;

TEST_CASE("/proc/PID/stat: CPU ticks, virtual size and resident pages, whatever the command's name") {
  const char* node =
      "4711 (node) S 4700 4711 4700 0 -1 4194560 20431 0 12 0 153 47 0 0 20 0 11 0 1234567 1137725440 12800 "
      "18446744073709551615 1 1 0 0 0 0 0 16781312 17922 0 0 0 17 1 0 0 0 0 0\n";
  const auto s = parse_proc_stat(node);
  REQUIRE(s);
  CHECK(s->cpu_ticks == 200);  // utime 153 + stime 47
  CHECK(s->virtual_bytes == 1137725440);
  CHECK(s->resident_pages == 12800);
  const char* odd = "9 (a) b (c) R 1 9 9 0 -1 0 0 0 0 0 5 6 0 0 20 0 1 0 99 4096 3 0\n";
  const auto t = parse_proc_stat(odd);
  REQUIRE(t);
  CHECK(t->cpu_ticks == 11);
  CHECK(t->virtual_bytes == 4096);
  CHECK(t->resident_pages == 3);
  CHECK_FALSE(parse_proc_stat(""));
  CHECK_FALSE(parse_proc_stat("12 (short) S 1 2 3\n"));
  CHECK_FALSE(parse_proc_stat("no parenthesis"));
}
#endif
