#include "protocols/scoreboard_segment.h"

#include "protocols/platform/shared_memory.h"

namespace handoff::scoreboard {

struct Segment::Impl {
  std::unique_ptr<SharedMemory> memory;
};

Segment::Segment(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Segment::~Segment() = default;

std::intptr_t Segment::native_handle() const { return impl_->memory->native_handle(); }
std::string Segment::access() const { return impl_->memory->access(); }

// A mapping becomes a Segment once its header is known good (formatted or validated).
std::unique_ptr<Segment> Segment::adopt(std::unique_ptr<Impl> impl, Header* header, const std::string& name) {
  std::unique_ptr<Segment> segment(new Segment(std::move(impl)));
  segment->header_ = header;
  segment->name_ = name;
  return segment;
}

std::unique_ptr<Segment> Segment::create(const std::string& name, std::uint32_t capacity, std::int64_t master_pid,
                                         std::int64_t now_ms, std::string& error) {
  auto impl = std::make_unique<Impl>();
  impl->memory = SharedMemory::create(name, segment_bytes(capacity), error);
  if (!impl->memory) return nullptr;
  Header* header = format(impl->memory->address(), impl->memory->size(), capacity, master_pid, now_ms);
  if (!header) {
    error = "the mapping is smaller than asked";
    impl.reset();
    std::string unused;
    SharedMemory::remove(name, unused);
    return nullptr;
  }
  return adopt(std::move(impl), header, name);
}

std::unique_ptr<Segment> Segment::open(const std::string& name, bool writable, std::string& error, bool* denied) {
  auto impl = std::make_unique<Impl>();
  impl->memory = SharedMemory::open(name, writable, error, denied);
  if (!impl->memory) return nullptr;
  Header* header = validate(impl->memory->address(), impl->memory->size());
  if (!header) {
    error = "not a scoreboard of version " + std::to_string(kVersion);
    return nullptr;
  }
  return adopt(std::move(impl), header, name);
}

bool Segment::remove(const std::string& name, std::string& error) { return SharedMemory::remove(name, error); }

}  // namespace handoff::scoreboard
