// Which line a received descriptor belongs to (protocols/handle_pairing.h): the last line
// to begin in the read that brought it.
#include <doctest/doctest.h>

#include <vector>

#include "protocols/handle_pairing.h"

using handoff::ipc::HandlePairing;

namespace {

// Frames one read and answers, for each line it completes, whether that line owns a
// descriptor. Fails the test case when the read breaks the rule.
std::vector<bool> owners(HandlePairing& pairing, std::string_view bytes, std::size_t handles) {
  const auto broken = pairing.begin_read(bytes, handles);
  REQUIRE_FALSE(broken.has_value());
  std::vector<bool> out;
  for (char c : bytes)
    if (c == '\n') out.push_back(pairing.line_owns_handle());
  return out;
}

}  // namespace

TEST_CASE("a descriptor belongs to the line that ends where its read ends") {
  HandlePairing p;
  CHECK(owners(p, "{\"a\":1}\n{\"cmd\":\"NODE_HANDLE\"}\n", 1) == std::vector<bool>{false, true});
  CHECK(owners(p, "{\"a\":2}\n", 0) == std::vector<bool>{false});
  CHECK_FALSE(p.unfinished_line_owns_handle());
}

TEST_CASE("a descriptor whose line is cut by the read belongs to the unfinished line") {
  HandlePairing p;
  CHECK(owners(p, "{\"stats\":1}\n{\"cmd\":\"NODE_HA", 1) == std::vector<bool>{false});
  CHECK(p.unfinished_line_owns_handle());
  CHECK(owners(p, "NDLE\",\"msg\":", 0).empty());  // still unfinished
  CHECK(p.unfinished_line_owns_handle());
  CHECK(owners(p, "{}}\n{\"stats\":2}\n", 0) == std::vector<bool>{true, false});
  CHECK_FALSE(p.unfinished_line_owns_handle());
}

TEST_CASE("the end of an owned line and the next descriptor's whole line in one read") {
  HandlePairing p;
  owners(p, "{\"cmd\":\"NODE_", 1);
  CHECK(owners(p, "HANDLE\"}\n{\"cmd\":\"NODE_HANDLE\"}\n", 1) == std::vector<bool>{true, true});
  CHECK(owners(p, "HANDLE\"}\n{\"x\":1}\n{\"cmd\":\"NODE_HANDLE\"}\n", 0) == std::vector<bool>{false, false, false});
}

TEST_CASE("several descriptors in one read break the rule") {
  HandlePairing p;
  auto broken = p.begin_read("{\"cmd\":\"NODE_HANDLE\"}\n", 2);
  REQUIRE(broken);
  CHECK(*broken == "2 descriptors in one message");
}

TEST_CASE("a second descriptor for a line that already has one breaks the rule") {
  HandlePairing p;
  owners(p, "{\"cmd\":\"NODE_HAN", 1);
  CHECK(p.begin_read("DLE\",", 1).has_value());  // still the same unfinished line
  HandlePairing q;
  owners(q, "{\"cmd\":\"NODE_HAN", 1);
  CHECK(q.begin_read("DLE\"}\n", 1).has_value());  // it ends here, and it has one
}

TEST_CASE("lines without descriptors own none, and asking past the read's lines is harmless") {
  HandlePairing p;
  CHECK(owners(p, "{\"a\":1}\n{\"b\":2}\n", 0) == std::vector<bool>{false, false});
  CHECK_FALSE(p.line_owns_handle());
}
