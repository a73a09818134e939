// Kernel dispatch's stranger check: the listening rows of /proc/net/tcp{,6} with their
// owner (captured on Linux x86-64 from three SO_REUSEPORT sockets on port 40379: two on
// 127.0.0.1, one on ::; the uid of one row changed to 1000 to see the column read), and
// the StrangerWatch that compares them with the master's own inodes.
#include <doctest/doctest.h>

#include "supervisor/core/kernel_group.h"
#ifndef _WIN32
#include "supervisor/platform/posix/proc_net_tcp.h"
#endif

using namespace handoff;

#ifndef _WIN32
TEST_CASE("kernel group: listening rows of /proc/net/tcp and tcp6 with their uid") {
  const char* tcp =
      "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode                 "
      "                                    \n"
      "   4: 0100007F:9DBB 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 11932839 1 "
      "00000000b9703010 100 0 0 10 0                  \n"
      "   5: 0100007F:9DBB 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 11932838 1 "
      "00000000cd00cff2 100 0 0 10 0                  \n"
      "   6: 0100007F:8946 0100007F:AECB 01 00000000:00000000 00:00000000 00000000  1000        0 1967750 1 0\n";
  const auto rows = platform::listening_sockets_in_proc_net_tcp(tcp, false);
  REQUIRE(rows.size() == 2);
  CHECK(rows[0] == ListeningSocket{11932839, "127.0.0.1:40379", 0});
  CHECK(rows[1] == ListeningSocket{11932838, "127.0.0.1:40379", 1000});
  const char* tcp6 =
      "  sl  local_address                         remote_address                        st tx_queue rx_queue tr "
      "tm->when retrnsmt   uid  timeout inode\n"
      "   0: 00000000000000000000000000000000:9DBB 00000000000000000000000000000000:0000 0A 00000000:00000000 "
      "00:00000000 00000000     0        0 11932840 1 00000000938c72bc 100 0 0 10 0\n";
  CHECK(platform::listening_sockets_in_proc_net_tcp(tcp6, true) ==
        std::vector<ListeningSocket>{{11932840, "[::]:40379", 0}});
}
#endif

TEST_CASE("kernel group: the group's address as the kernel's tables show it") {
  CHECK(group_address("127.0.0.1", 3000) == "127.0.0.1:3000");
  CHECK(group_address("::", 3000) == "[::]:3000");
  CHECK(group_address("0:0::1", 80) == "[::1]:80");
  CHECK(group_address("localhost", 80) == std::nullopt);
}

TEST_CASE("kernel group: which listeners compete with the group's address") {
  CHECK(competes("127.0.0.1:3000", "127.0.0.1:3000"));
  CHECK_FALSE(competes("127.0.0.1:3000", "127.0.0.1:3001"));
  CHECK_FALSE(competes("127.0.0.1:3000", "127.0.0.2:3000"));
  CHECK_FALSE(competes("127.0.0.1:3000", "[::1]:3000"));
  // Wildcards overlap the addresses of their family; "::" (dual-stack) every address.
  CHECK(competes("0.0.0.0:3000", "127.0.0.1:3000"));
  CHECK(competes("127.0.0.1:3000", "0.0.0.0:3000"));
  CHECK(competes("[::]:3000", "127.0.0.1:3000"));
  CHECK(competes("127.0.0.1:3000", "[::]:3000"));
  CHECK(competes("[::]:3000", "0.0.0.0:3000"));
  CHECK(competes("[::1]:3000", "[::]:3000"));
  CHECK_FALSE(competes("[::1]:3000", "0.0.0.0:3000"));
  CHECK(competes("[::ffff:127.0.0.1]:3000", "0.0.0.0:3000"));
  CHECK_FALSE(competes("bad", "127.0.0.1:3000"));
}

TEST_CASE("kernel group: a stranger is reported when it appears and when it goes, once") {
  StrangerWatch watch("127.0.0.1:3000");
  const ListeningSocket mine1{11, "127.0.0.1:3000", 0}, mine2{12, "127.0.0.1:3000", 0};
  const ListeningSocket stranger{99, "127.0.0.1:3000", 1000};
  const ListeningSocket elsewhere{50, "127.0.0.1:3001", 0}, other_address{51, "[::1]:3000", 0};
  const std::set<std::uint64_t> own{11, 12};

  auto change = watch.update({mine1, mine2, elsewhere, other_address}, own);
  CHECK(change.empty());
  CHECK(watch.count() == 0);

  change = watch.update({mine1, stranger, mine2}, own);
  CHECK(change.appeared == std::vector<ListeningSocket>{stranger});
  CHECK(change.gone.empty());
  CHECK(watch.count() == 1);
  CHECK(watch.strangers().at(99).uid == 1000);

  // Still there: nothing new to report.
  CHECK(watch.update({stranger, mine1, mine2}, own).empty());
  CHECK(watch.count() == 1);

  // A socket of the master's own that appears later (a scale-up) is not a stranger.
  const ListeningSocket mine3{13, "127.0.0.1:3000", 0};
  CHECK(watch.update({stranger, mine1, mine2, mine3}, {11, 12, 13}).empty());

  change = watch.update({mine1, mine2, mine3}, {11, 12, 13});
  CHECK(change.appeared.empty());
  CHECK(change.gone == std::vector<ListeningSocket>{stranger});
  CHECK(watch.count() == 0);

  // A wildcard listener on the port (a server started on 0.0.0.0 beside the group).
  const ListeningSocket wildcard{77, "0.0.0.0:3000", 0};
  change = watch.update({mine1, mine2, mine3, wildcard}, {11, 12, 13});
  CHECK(change.appeared == std::vector<ListeningSocket>{wildcard});
}
