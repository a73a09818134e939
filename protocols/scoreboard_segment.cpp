#include "protocols/scoreboard_segment.h"

#include "protocols/native_handle.h"

#include <boost/interprocess/mapped_region.hpp>
#include <boost/interprocess/shared_memory_object.hpp>


namespace handoff::scoreboard {

namespace bip = boost::interprocess;

namespace {

// POSIX: mode 0600. Windows takes a security descriptor instead; the object then gets its
// creator's default security, which other users cannot open.
template <class Permissions>
void restrict_to_owner(Permissions& permissions) {
  if constexpr (requires { permissions.set_permissions(0600); }) permissions.set_permissions(0600);
}

}  // namespace

struct Segment::Impl {
  bip::shared_memory_object object;
  bip::mapped_region region;
};

Segment::Segment(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Segment::~Segment() = default;

std::intptr_t Segment::native_handle() const {
  return as_intptr(impl_->object.get_mapping_handle().handle);
}

std::unique_ptr<Segment> Segment::create(const std::string& name, std::uint32_t capacity, std::int64_t master_pid,
                                         std::int64_t now_ms, std::string& error) {
  try {
    bip::permissions owner_only;
    restrict_to_owner(owner_only);
    auto impl = std::make_unique<Impl>();
    impl->object = bip::shared_memory_object(bip::create_only, name.c_str(), bip::read_write, owner_only);
    const auto bytes = segment_bytes(capacity);
    impl->object.truncate(static_cast<bip::offset_t>(bytes));
    impl->region = bip::mapped_region(impl->object, bip::read_write);
    Header* header = format(impl->region.get_address(), impl->region.get_size(), capacity, master_pid, now_ms);
    if (!header) {
      error = "the mapping is smaller than asked";
      bip::shared_memory_object::remove(name.c_str());
      return nullptr;
    }
    std::unique_ptr<Segment> segment(new Segment(std::move(impl)));
    segment->header_ = header;
    segment->name_ = name;
    return segment;
  } catch (const bip::interprocess_exception& e) {
    error = e.what();
    return nullptr;
  }
}

std::unique_ptr<Segment> Segment::open(const std::string& name, bool writable, std::string& error) {
  try {
    const auto mode = writable ? bip::read_write : bip::read_only;
    auto impl = std::make_unique<Impl>();
    impl->object = bip::shared_memory_object(bip::open_only, name.c_str(), mode);
    impl->region = bip::mapped_region(impl->object, mode);
    Header* header = validate(impl->region.get_address(), impl->region.get_size());
    if (!header) {
      error = "not a scoreboard of version " + std::to_string(kVersion);
      return nullptr;
    }
    std::unique_ptr<Segment> segment(new Segment(std::move(impl)));
    segment->header_ = header;
    segment->name_ = name;
    return segment;
  } catch (const bip::interprocess_exception& e) {
    error = e.what();
    return nullptr;
  }
}

bool Segment::remove(const std::string& name) { return bip::shared_memory_object::remove(name.c_str()); }

}  // namespace handoff::scoreboard
