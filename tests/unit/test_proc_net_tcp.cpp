// Rows as Linux prints them (x86-64): 127.0.0.1:34569 in tcp, [::]:34567 and [::1]:34568
// in tcp6, from servers Node listened with; a connected socket and a malformed row beside.
#ifndef _WIN32
#include <doctest/doctest.h>

#include "supervisor/platform/posix/proc_net_tcp.h"

using namespace handoff::platform;

TEST_CASE("/proc/net/tcp and tcp6: listening rows by inode, with their addresses") {
  const char* tcp =
      "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
      "   1: 0100007F:8945 0100007F:AECA 06 00000000:00000000 03:00000156 00000000     0        0 0 3 00\n"
      "   2: 0100007F:8709 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1967743 1 "
      "00000000eb70d20f 100 0 0 10 0\n"
      "   3: 0100007F:8946 0100007F:AECB 01 00000000:00000000 00:00000000 00000000  1000        0 1967750 1 0\n"
      "   4: garbage\n";
  CHECK(listening_in_proc_net_tcp(tcp, false) == std::map<std::uint64_t, std::string>{{1967743, "127.0.0.1:34569"}});
  const char* tcp6 =
      "  sl  local_address                         remote_address                        st tx_queue rx_queue tr "
      "tm->when retrnsmt   uid  timeout inode\n"
      "   0: 00000000000000000000000000000000:8707 00000000000000000000000000000000:0000 0A 00000000:00000000 "
      "00:00000000 00000000     0        0 1967741 1 0000000092fe553f 100 0 0 10 0\n"
      "   1: 00000000000000000000000001000000:8708 00000000000000000000000000000000:0000 0A 00000000:00000000 "
      "00:00000000 00000000     0        0 1967742 1 000000007671821b 100 0 0 10 0\n";
  CHECK(listening_in_proc_net_tcp(tcp6, true) ==
        std::map<std::uint64_t, std::string>{{1967741, "[::]:34567"}, {1967742, "[::1]:34568"}});
  CHECK(listening_in_proc_net_tcp("", true).empty());
}
#endif
