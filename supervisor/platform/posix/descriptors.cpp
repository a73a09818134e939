#include <filesystem>

#include "supervisor/platform/platform.h"

namespace handoff::platform {

int open_descriptor_count() {
  // /proc/self/fd on Linux, /dev/fd elsewhere; the iterator's own descriptor is counted
  // too, so subtract it.
  std::error_code ec;
  const char* dir = std::filesystem::exists("/proc/self/fd", ec) ? "/proc/self/fd" : "/dev/fd";
  int count = 0;
  for (auto it = std::filesystem::directory_iterator(dir, ec); !ec && it != std::filesystem::directory_iterator();
       it.increment(ec))
    ++count;
  return count > 0 ? count - 1 : 0;
}

}  // namespace handoff::platform
