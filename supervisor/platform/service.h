// What the observability and control parts need from the operating system: the service
// manager (systemd's notify protocol and socket activation on Linux), credentials of a
// local peer, and ownership of shared memory. One implementation per platform:
// platform/posix/{service,local_ipc}.cpp and platform/win/{service,local_ipc}.cpp.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "supervisor/platform/platform.h"

namespace handoff::platform {

// ---- Service manager -----------------------------------------------------------------

// Sends one state change ("READY=1", "RELOADING=1", "STOPPING=1", "WATCHDOG=1",
// "STATUS=...") when a service manager asked for them (NOTIFY_SOCKET); otherwise nothing.
void notify_service_manager(std::string_view state);

// How often the service manager wants WATCHDOG=1, when it does (WatchdogSec=).
std::optional<std::chrono::microseconds> watchdog_interval();

// Listening TCP sockets passed by the service manager (LISTEN_FDS), with the address
// each is bound to. Taken once: the variables are removed so workers never see them,
// and the descriptors are close-on-exec.
struct InheritedListener {
  std::intptr_t fd = -1;
  std::string host;  // an IP literal, as in the config
  int port = 0;
};
std::vector<InheritedListener> take_inherited_listeners();
void close_inherited(std::intptr_t fd);

// ---- Local IPC and ownership -----------------------------------------------------------

std::int64_t current_pid();
std::uint32_t effective_uid();
bool process_alive(std::int64_t pid);

// The user id of the process at the other end of a connected local socket.
std::optional<std::uint32_t> peer_uid(std::intptr_t fd);

// Makes a bound local endpoint (`server`, bound to local_endpoint(path)) reachable by
// this process's user only: mode 0600 on the socket file on POSIX; on Windows a DACL on
// the named pipe with one entry, this user (the default would also let Everyone and
// Anonymous open it for reading, and SYSTEM and Administrators for everything).
bool restrict_local_endpoint(uv_pipe_t* server, const std::string& path, std::string& error);
// Who may connect to it, for the log: "0600" or the pipe's DACL in SDDL.
std::string local_endpoint_access(uv_pipe_t* server, const std::string& path);
// The name a local socket path binds to: the path itself on POSIX; on Windows a named pipe
// (\\.\pipe\handoff-<hash of the path>), as a path cannot name a pipe there.
std::string local_endpoint(const std::string& path);

// Gives a file (the control socket) to another user: the supervisor that drops to that
// user keeps serving it and can remove it.
bool give_file(const std::string& path, const Ids& ids, std::string& error);

// Hands a shared-memory segment (its native handle) to another user, keeping mode 0600:
// that user's workers may map it, nobody else (the owner of the supervisor is root).
bool give_shared_memory(std::intptr_t handle, const Ids& ids, std::string& error);

}  // namespace handoff::platform
