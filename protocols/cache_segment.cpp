#include "protocols/cache_segment.h"

#include "protocols/platform/shared_memory.h"

namespace handoff {

std::unique_ptr<CacheSegment> CacheSegment::create(const std::string& name, std::uint64_t arena_bytes,
                                                   std::string& error) {
  std::unique_ptr<CacheSegment> segment(new CacheSegment);
  segment->memory_ = SharedMemory::create(name, cache_table::segment_bytes(arena_bytes), error);
  if (!segment->memory_) {
    std::string unused;
    if (!SharedMemory::remove(name, unused)) return nullptr;
    segment->memory_ = SharedMemory::create(name, cache_table::segment_bytes(arena_bytes), error);
    if (!segment->memory_) return nullptr;
  }
  segment->name_ = name;
  segment->created_ = true;
  segment->arena_bytes_ = arena_bytes;
  segment->writer_.emplace(segment->memory_->address(), segment->memory_->size(), arena_bytes);
  if (!segment->writer_->ok()) {
    error = "the mapping is smaller than asked";
    return nullptr;  // its destructor removes the name
  }
  return segment;
}

std::unique_ptr<CacheSegment> CacheSegment::open(const std::string& name, std::string& error) {
  std::unique_ptr<CacheSegment> segment(new CacheSegment);
  segment->memory_ = SharedMemory::open(name, /*writable=*/false, error);
  if (!segment->memory_) return nullptr;
  segment->name_ = name;
  segment->reader_.emplace(segment->memory_->address(), segment->memory_->size());
  if (!segment->reader_->ok()) {
    error = "not a cache table of version " + std::to_string(cache_table::kVersion);
    return nullptr;
  }
  return segment;
}

CacheSegment::~CacheSegment() {
  if (!created_) return;
  memory_.reset();
  std::string unused;  // on Windows: gone with the last handle
  SharedMemory::remove(name_, unused);
}

std::intptr_t CacheSegment::native_handle() const { return memory_->native_handle(); }

}  // namespace handoff
