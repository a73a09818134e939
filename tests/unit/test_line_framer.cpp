#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "protocols/line_framer.h"

using handoff::ipc::LineFramer;

namespace {
struct Collected {
  std::vector<std::string> lines;
  std::vector<std::size_t> oversize;
};

Collected feed_all(LineFramer& framer, const std::vector<std::string>& chunks) {
  Collected out;
  for (const auto& chunk : chunks)
    handoff::ipc::feed_lines(
        framer, chunk, [&](std::string_view l) { out.lines.emplace_back(l); },
        [&](std::size_t n) { out.oversize.push_back(n); });
  return out;
}
}  // namespace

TEST_CASE("lines split at every byte boundary come out whole, UTF-8 included") {
  const std::string text = "{\"a\":\"h\xC3\xA9llo \xE2\x82\xAC\"}\n{\"b\":2}\n";
  for (std::size_t cut = 0; cut <= text.size(); ++cut) {
    LineFramer framer(1024);
    auto got = feed_all(framer, {text.substr(0, cut), text.substr(cut)});
    REQUIRE(got.lines.size() == 2);
    CHECK(got.lines[0] == "{\"a\":\"h\xC3\xA9llo \xE2\x82\xAC\"}");
    CHECK(got.lines[1] == "{\"b\":2}");
    CHECK(framer.buffered() == 0);
  }
}

TEST_CASE("one byte at a time") {
  const std::string text = "first\nsecond\n";
  LineFramer framer(64);
  std::vector<std::string> chunks;
  for (char c : text) chunks.emplace_back(1, c);
  auto got = feed_all(framer, chunks);
  CHECK(got.lines == std::vector<std::string>{"first", "second"});
}

TEST_CASE("an oversize line is rejected once and the next line still arrives") {
  LineFramer framer(8);
  auto got = feed_all(framer, {"0123456789", "abc\nok\n"});
  CHECK(got.oversize == std::vector<std::size_t>{13});
  CHECK(got.lines == std::vector<std::string>{"ok"});
  CHECK(framer.buffered() == 0);
}

TEST_CASE("a line exactly at the limit is accepted") {
  LineFramer framer(4);
  auto got = feed_all(framer, {"ab", "cd\n"});
  CHECK(got.lines == std::vector<std::string>{"abcd"});
  CHECK(got.oversize.empty());
}
