// Windows counterparts. The control channel is a named pipe whose DACL admits only the
// creating user, so peer_uid is not needed to refuse others; shared memory sections
// take their ACL at creation.
#include <windows.h>

#include <xxhash.h>

#include <cstdio>

#include "supervisor/platform/service.h"

namespace handoff::platform {

std::int64_t current_pid() { return static_cast<std::int64_t>(GetCurrentProcessId()); }

std::uint32_t effective_uid() { return 0; }

bool process_alive(std::int64_t pid) {
  HANDLE h = OpenProcess(SYNCHRONIZE, FALSE, static_cast<DWORD>(pid));
  if (!h) return false;
  const bool alive = WaitForSingleObject(h, 0) == WAIT_TIMEOUT;
  CloseHandle(h);
  return alive;
}

std::optional<std::uint32_t> peer_uid(std::intptr_t) { return effective_uid(); }

bool restrict_to_owner(const std::string&, std::string&) { return true; }

bool give_file(const std::string&, const Ids&, std::string& error) {
  error = "running as another user is not supported on Windows";
  return false;
}

bool give_shared_memory(std::intptr_t, const Ids&, std::string& error) {
  error = "running workers as another user is not supported on Windows";
  return false;
}

std::string local_endpoint(const std::string& path) {
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(XXH64(path.data(), path.size(), 0)));
  return std::string("\\\\.\\pipe\\handoff-") + hex;
}

}  // namespace handoff::platform
