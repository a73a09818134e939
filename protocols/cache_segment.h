// The output cache's shared table (cache_table.h) mapped into this process: the master
// creates it (one per app with a cache) and removes it; C++ SDK workers open it read-only,
// by the name their `welcome` gives (protocols/platform/shared_memory.h: a file under
// /dev/shm on Linux, a paging-file section on Windows).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "protocols/cache_table.h"

namespace handoff {

class SharedMemory;

class CacheSegment {
 public:
  // A new table of `arena_bytes`, readable and writable by this user only. One of that
  // name left by a supervisor that is gone (the caller knows: it owns the scoreboard of
  // the same control socket) is replaced.
  static std::unique_ptr<CacheSegment> create(const std::string& name, std::uint64_t arena_bytes, std::string& error);
  // An existing table, read-only.
  static std::unique_ptr<CacheSegment> open(const std::string& name, std::string& error);

  ~CacheSegment();  // the creator's removes the name
  CacheSegment(const CacheSegment&) = delete;
  CacheSegment& operator=(const CacheSegment&) = delete;

  const std::string& name() const { return name_; }
  std::uint64_t arena_bytes() const { return arena_bytes_; }
  // The OS handle, for ownership changes (platform::give_shared_memory).
  std::intptr_t native_handle() const;
  // The creator's side, and an opener's.
  cache_table::Writer& writer() { return *writer_; }
  cache_table::Reader& reader() { return *reader_; }

 private:
  CacheSegment() = default;
  std::unique_ptr<SharedMemory> memory_;
  std::string name_;
  std::uint64_t arena_bytes_ = 0;
  bool created_ = false;
  std::optional<cache_table::Writer> writer_;
  std::optional<cache_table::Reader> reader_;
};

}  // namespace handoff
