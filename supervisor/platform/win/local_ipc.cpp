// Windows counterparts. The control socket is a named pipe whose DACL admits only the
// creating user (restrict_local_endpoint), so peer_uid is not needed to refuse others;
// the scoreboard's section takes the same DACL at creation (protocols/platform/win).
#include <windows.h>

#include <aclapi.h>

#include <xxhash.h>

#include <cstdio>

#include "protocols/platform/win/owner_only_security.h"
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

// libuv creates the pipe's first instance with the default security (and WRITE_DAC, for
// uv_pipe_chmod); its DACL is the pipe's, shared by every instance created later, so one
// SetSecurityInfo here, before uv_listen, covers them all. The owner keeps
// FILE_CREATE_PIPE_INSTANCE (in generic-all) for the instances libuv adds.
bool restrict_local_endpoint(uv_pipe_t* server, const std::string&, std::string& error) {
  uv_os_fd_t handle{};
  if (const int rc = uv_fileno(reinterpret_cast<uv_handle_t*>(server), &handle); rc != 0) {
    error = uv_strerror(rc);
    return false;
  }
  win::OwnerOnlySecurity security;
  if (!security.ok()) {
    error = security.error();
    return false;
  }
  const DWORD rc = SetSecurityInfo(handle, SE_KERNEL_OBJECT, DACL_SECURITY_INFORMATION | PROTECTED_DACL_SECURITY_INFORMATION,
                                   nullptr, nullptr, security.dacl(), nullptr);
  if (rc != ERROR_SUCCESS) {
    error = "SetSecurityInfo failed: error " + std::to_string(rc);
    return false;
  }
  return true;
}

std::string local_endpoint_access(uv_pipe_t* server, const std::string&) {
  uv_os_fd_t handle{};
  if (uv_fileno(reinterpret_cast<uv_handle_t*>(server), &handle) != 0) return "unknown";
  const std::string dacl = win::dacl_of(handle);
  return dacl.empty() ? "unknown" : dacl;
}

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
