// A named shared memory mapping, the part of the scoreboard that differs per platform.
// POSIX: a Boost.Interprocess shared_memory_object (shm_open, a file under /dev/shm, mode
// 0600) that lives until removed. Windows: a native paging-file section (CreateFileMapping,
// Boost's windows_shared_memory) whose DACL admits only its creator's user; it has no
// name to remove and disappears when its last handle closes. One implementation per
// platform: platform/posix/shared_memory.cpp and platform/win/shared_memory.cpp.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace handoff {

class SharedMemory {
 public:
  // A new mapping of `bytes`, zeroed, readable and writable by this process's user only.
  // Fails when one of that name exists.
  static std::unique_ptr<SharedMemory> create(const std::string& name, std::size_t bytes, std::string& error);
  // An existing mapping; read-only unless `writable`.
  // `denied` (when given): whether the OS refused it for want of permission.
  static std::unique_ptr<SharedMemory> open(const std::string& name, bool writable, std::string& error,
                                            bool* denied = nullptr);
  // Removes the name (POSIX). Windows has nothing to remove: false, with the reason, when
  // a section of that name is still held open by some process.
  static bool remove(const std::string& name, std::string& error);

  ~SharedMemory();
  SharedMemory(const SharedMemory&) = delete;
  SharedMemory& operator=(const SharedMemory&) = delete;

  void* address() const;
  std::size_t size() const;
  // The OS handle (a descriptor on POSIX, the section's HANDLE on Windows).
  std::intptr_t native_handle() const;
  // Who may open it, for the log: the mode ("0600") or the section's DACL in SDDL.
  std::string access() const;

 private:
  struct Impl;
  explicit SharedMemory(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace handoff
