// The output cache's shared table (protocols/cache_table.h) on a plain buffer: what the
// master publishes a worker finds, fresh only, per Accept-Encoding when the key varies;
// purges; the ring overwriting old entries; a reader that never trusts what it maps.
#include <doctest/doctest.h>

#include <cstring>
#include <string>
#include <vector>

#include "protocols/cache_table.h"

using namespace handoff;
using namespace handoff::cache_table;

namespace {

// A table on a plain buffer (8-byte aligned, as a mapping is), its writer and a reader.
struct Mapped {
  explicit Mapped(std::uint64_t arena = 64 * 1024)
      : memory(segment_bytes(arena) / 8 + 1), writer(memory.data(), bytes(), arena), reader(memory.data(), bytes()) {}
  std::size_t bytes() const { return memory.size() * 8; }
  std::vector<std::uint64_t> memory;
  Writer writer;
  Reader reader;
};

std::string key(std::string_view host, std::string_view target) {
  std::string k;
  primary_key(host, target, k);
  return k;
}

}  // namespace

TEST_CASE("cache table: a worker finds what the master published, while it is fresh") {
  Mapped table;
  auto& writer = table.writer;
  auto& reader = table.reader;
  REQUIRE(writer.ok());
  REQUIRE(reader.ok());
  writer.put(key("example.test", "/a?x=1"), "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n", "hello", 1000, 61000);

  Hit hit;
  CHECK(reader.find("Example.TEST", "/a?x=1", "", 2000, hit));  // the host's case does not matter
  CHECK(hit.head == "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n");
  CHECK(hit.body == "hello");
  CHECK(hit.stored_ms == 1000);
  CHECK_FALSE(reader.find("example.test", "/a?x=2", "", 2000, hit));  // the query is part of the key
  CHECK_FALSE(reader.find("other.test", "/a?x=1", "", 2000, hit));
  CHECK_FALSE(reader.find("example.test", "/a?x=1", "", 61000, hit));  // its lifetime ended

  // A new response for the key replaces the old one.
  writer.put(key("example.test", "/a?x=1"), "HTTP/1.1 200 OK\r\n", "again", 5000, 65000);
  CHECK(reader.find("example.test", "/a?x=1", "", 6000, hit));
  CHECK(hit.body == "again");
}

TEST_CASE("cache table: a key that varies is found per Accept-Encoding") {
  Mapped table;
  auto& writer = table.writer;
  auto& reader = table.reader;
  const std::string primary = key("h", "/v");
  std::string gzip;
  variant_key(primary, "gzip", gzip);
  writer.mark_varies(primary, 0);
  writer.put(gzip, "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\n", "zipped", 0, 10000);

  Hit hit;
  CHECK(reader.find("h", "/v", "gzip", 1, hit));
  CHECK(hit.body == "zipped");
  CHECK_FALSE(reader.find("h", "/v", "", 1, hit));  // that variant was never stored
  CHECK_FALSE(reader.find("h", "/v", "br", 1, hit));

  // The response stops varying: the primary answers everyone again.
  writer.put(primary, "HTTP/1.1 200 OK\r\n", "plain", 2, 10000);
  CHECK(reader.find("h", "/v", "br", 3, hit));
  CHECK(hit.body == "plain");
}

TEST_CASE("cache table: a purge clears the targets under its prefix, an empty one all") {
  Mapped table;
  auto& writer = table.writer;
  auto& reader = table.reader;
  for (const char* target : {"/news/1", "/news/2", "/about"}) writer.put(key("h", target), "HTTP/1.1 200 OK\r\n", target, 0, 10000);
  Hit hit;
  CHECK(writer.purge("/news/") == 2);
  CHECK_FALSE(reader.find("h", "/news/1", "", 1, hit));
  CHECK_FALSE(reader.find("h", "/news/2", "", 1, hit));
  CHECK(reader.find("h", "/about", "", 1, hit));
  writer.clear();
  CHECK_FALSE(reader.find("h", "/about", "", 1, hit));
}

TEST_CASE("cache table: the ring overwrites the oldest entries, and a reader never gets another key's bytes") {
  Mapped table(4096);  // room for a few entries of ~600 bytes
  auto& writer = table.writer;
  auto& reader = table.reader;
  Hit hit;
  for (int i = 0; i < 200; ++i) {
    const std::string target = "/k" + std::to_string(i);
    writer.put(key("h", target), "HTTP/1.1 200 OK\r\n", std::string(500 + i % 97, static_cast<char>('a' + i % 26)),
               i, 1'000'000);
    CHECK(reader.find("h", target, "", i, hit));  // the newest is always there
    // Every entry still found holds its own bytes.
    int found = 0;
    for (int j = 0; j <= i; ++j) {
      if (!reader.find("h", "/k" + std::to_string(j), "", i, hit)) continue;
      ++found;
      CHECK(hit.body == std::string(500 + j % 97, static_cast<char>('a' + j % 26)));
    }
    CHECK(found <= 8);  // 4096 bytes hold at most 8 of them
  }
  // An entry larger than the arena is not published.
  writer.put(key("h", "/big"), "HTTP/1.1 200 OK\r\n", std::string(5000, 'x'), 0, 1'000'000);
  CHECK_FALSE(reader.find("h", "/big", "", 0, hit));
}

TEST_CASE("cache table: a full group gives up its oldest entry") {
  // The smallest table has one group of kWays slots: every key lands in it.
  Mapped table(1024);
  auto& writer = table.writer;
  auto& reader = table.reader;
  Hit hit;
  for (std::uint32_t i = 0; i <= kWays; ++i) writer.put(key("h", "/" + std::to_string(i)), "H\r\n", "b", i, 100);
  CHECK_FALSE(reader.find("h", "/0", "", 50, hit));  // the oldest made room
  for (std::uint32_t i = 1; i <= kWays; ++i) CHECK(reader.find("h", "/" + std::to_string(i), "", 50, hit));
}

TEST_CASE("cache table: a reader refuses memory that is not a table, and misses on a corrupt slot") {
  std::vector<std::uint64_t> junk(1024, 0x4141414141414141ull);
  CHECK_FALSE(Reader(junk.data(), junk.size() * 8).ok());
  CHECK_FALSE(Reader(junk.data(), 10).ok());

  const std::uint64_t arena = 64 * 1024;
  Mapped table(arena);
  auto& writer = table.writer;
  auto& reader = table.reader;
  writer.put(key("h", "/x"), "HTTP/1.1 200 OK\r\n", "ok", 0, 100);
  Hit hit;
  REQUIRE(reader.find("h", "/x", "", 1, hit));
  // Another process scribbles over the slots: offsets and lengths past the arena.
  auto* slots = reinterpret_cast<unsigned char*>(table.memory.data()) + 64;
  const std::size_t slot_bytes = (segment_bytes(arena) - 64 - arena);
  for (std::size_t i = 0; i < slot_bytes; i += sizeof(Slot)) {
    auto* s = reinterpret_cast<Slot*>(slots + i);
    if (s->kind.load() == kEntry) {
      s->body_bytes.store(UINT64_MAX - 3);
      CHECK_FALSE(reader.find("h", "/x", "", 1, hit));
      s->body_bytes.store(2);
      s->offset.store(arena - 1);
      CHECK_FALSE(reader.find("h", "/x", "", 1, hit));
    }
  }
  // A segment too small for what its header claims.
  CHECK_FALSE(Reader(table.memory.data(), 64 + 8).ok());
}
