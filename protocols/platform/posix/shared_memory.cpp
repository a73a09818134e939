// POSIX shared memory through Boost.Interprocess: shm_open, mode 0600.
#include "protocols/platform/shared_memory.h"

#include "protocols/platform/boost_mapping.h"

#include <sys/stat.h>

#include <cstdio>

#include <boost/interprocess/shared_memory_object.hpp>

namespace handoff {

struct SharedMemory::Impl : BoostMapping<bip::shared_memory_object> {
  using BoostMapping::BoostMapping;
};

SharedMemory::SharedMemory(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SharedMemory::~SharedMemory() = default;

void* SharedMemory::address() const { return impl_->region.get_address(); }
std::size_t SharedMemory::size() const { return impl_->region.get_size(); }
std::intptr_t SharedMemory::native_handle() const {
  return static_cast<std::intptr_t>(impl_->object.get_mapping_handle().handle);
}

std::string SharedMemory::access() const {
  struct stat st {};
  if (::fstat(static_cast<int>(native_handle()), &st) != 0) return "unknown";
  char mode[8];
  std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
  return mode;
}

std::unique_ptr<SharedMemory> SharedMemory::create(const std::string& name, std::size_t bytes, std::string& error) {
  return catching_boost(error, [&] {
    bip::permissions owner_only;
    owner_only.set_permissions(0600);
    bip::shared_memory_object object(bip::create_only, name.c_str(), bip::read_write, owner_only);
    object.truncate(static_cast<bip::offset_t>(bytes));  // ftruncate: zero-filled
    return std::unique_ptr<SharedMemory>(new SharedMemory(std::make_unique<Impl>(bip::read_write, std::move(object))));
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
  if (bip::shared_memory_object::remove(name.c_str())) return true;
  error = "cannot remove /dev/shm/" + name;
  return false;
}

}  // namespace handoff
