// What the core asks of the machine it runs on, as functions it is handed: the core
// decides with the answers but never asks the OS itself (it links no platform code). The
// supervisor passes the real machine (edge/real_host.h, from platform/ and libuv); a unit
// test may pass answers of its own.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "supervisor/core/dispatch_mode.h"
#include "supervisor/core/shared_library.h"
#include "supervisor/core/worker_env.h"

namespace handoff {

struct UserIds {
  std::uint32_t uid = 0;
  std::uint32_t gid = 0;
};

// What the OS refuses to copy into a new process: execve's E2BIG on Linux (the total of
// argv and environment, and each string alone), the command line and environment block of
// CreateProcess on Windows. `argument` or `variable` is the index (into argv or env) of the
// one string too long by itself; neither when it is all of them together. The message says
// what is too large, its size and the limit, in the OS's own units.
struct ExecOverflow {
  std::optional<std::size_t> argument;
  std::optional<std::size_t> variable;
  std::string message;
};

struct HostFacts {
  // How many CPUs the supervisor may run on (`workers: auto`), at least 1.
  std::function<int()> usable_cpu_count;
  // The supervisor's own environment, which workers inherit.
  std::function<Environment()> environment;
  // The absolute path of an executable: a name with a directory separator relative to
  // cwd, a bare name looked up in PATH (and PATHEXT on Windows).
  std::function<std::optional<std::string>(const std::string& program, const std::string& cwd)> find_executable;
  // The ids of a user (and group; default: the user's primary group); nullopt and a reason.
  std::function<std::optional<UserIds>(const std::string& user, const std::string& group, std::string& error)>
      resolve_user;
  // Whether HTTP.SYS is there (Windows); if not, why.
  std::function<bool(std::string& why)> httpsys_available;
  // Whether the kernel can dispatch connections (SO_REUSEPORT groups, Linux); unset: no.
  std::function<KernelDispatchFacts()> kernel_dispatch;
  // Whether argv and env ("NAME=value" strings) are too large to start a process with.
  std::function<std::optional<ExecOverflow>(const std::vector<std::string>& argv, const std::vector<std::string>& env)>
      exec_overflow;
  // Opens an affinity plugin (the `plugin` rule).
  LibraryLoader load_library;
};

}  // namespace handoff
