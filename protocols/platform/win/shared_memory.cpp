// Windows shared memory: a native paging-file section (CreateFileMapping through Boost's
// windows_shared_memory; Boost's portable shared_memory_object emulates POSIX with files
// and fails under wine 8). The master's handle keeps it alive; workers and `status` open it
// by name; it disappears with the last handle, so there is never a stale one to remove.
// Its DACL admits only the creating user (OwnerOnlySecurity).
#include "protocols/platform/shared_memory.h"

#include <boost/interprocess/windows_shared_memory.hpp>

#include "protocols/platform/boost_mapping.h"
#include "protocols/platform/win/owner_only_security.h"

namespace handoff {

struct SharedMemory::Impl : BoostMapping<bip::windows_shared_memory> {
  using BoostMapping::BoostMapping;
};

SharedMemory::SharedMemory(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SharedMemory::~SharedMemory() = default;

void* SharedMemory::address() const { return impl_->region.get_address(); }
std::size_t SharedMemory::size() const { return impl_->region.get_size(); }
std::intptr_t SharedMemory::native_handle() const {
  return reinterpret_cast<std::intptr_t>(impl_->object.get_mapping_handle().handle);
}

std::string SharedMemory::access() const {
  const std::string dacl = win::dacl_of(impl_->object.get_mapping_handle().handle);
  return dacl.empty() ? "unknown" : dacl;
}

std::unique_ptr<SharedMemory> SharedMemory::create(const std::string& name, std::size_t bytes, std::string& error) {
  win::OwnerOnlySecurity security;
  if (!security.ok()) {
    error = "cannot build an owner-only security descriptor: " + security.error();
    return nullptr;
  }
  return catching_boost(error, [&] {
    // A new section's pages are zero.
    auto impl = std::make_unique<Impl>(bip::read_write, bip::create_only, name.c_str(), bip::read_write, bytes,
                                       bip::permissions(security.attributes()));
    return std::unique_ptr<SharedMemory>(new SharedMemory(std::move(impl)));
  });
}

std::unique_ptr<SharedMemory> SharedMemory::open(const std::string& name, bool writable, std::string& error,
                                                 bool* denied) {
  return catching_boost(
      error,
      [&] {
        const auto mode = writable ? bip::read_write : bip::read_only;
        return std::unique_ptr<SharedMemory>(
            new SharedMemory(std::make_unique<Impl>(mode, bip::open_only, name.c_str(), mode)));
      },
      denied);
}

bool SharedMemory::remove(const std::string& name, std::string& error) {
  std::string unused;
  if (!open(name, false, unused)) return true;  // gone with its last handle
  error = "the section " + name +
          " is still held open (by workers of a supervisor that is gone?); it disappears when they exit";
  return false;
}

}  // namespace handoff
