// A worker is a process group, and it dies with the master. A command such as `npm start`
// or `sh -c "node app.js"` is a wrapper around the real app: signalling only the pid libuv
// spawned would leave the app running after every restart, still holding its ports. And a
// master killed with SIGKILL runs no code of its own, so a small guard process outlives it
// by a moment and kills every worker group it left (systemd's cgroup kill does the same
// for a service; here it works wherever the master runs). One implementation per
// platform: platform/posix/worker_group.cpp, platform/win/worker_group.cpp.
#pragma once

#include <uv.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "supervisor/platform/platform.h"

namespace handoff::platform {

// Flags for uv_spawn that put a worker at the head of a process group of its own (its
// own session, so a Ctrl+C in the master's terminal reaches only the master, which then
// drains the workers).
unsigned int worker_spawn_flags();

// What to say of a failed uv_spawn: libuv's text, and on Windows, when libuv had no name
// for it ("unknown error"), the system's own error number and text (called right after
// uv_spawn, before anything else can change the thread's last error).
std::string spawn_error(int uv_error);

// Sends `signum` to the worker and everything it started (its group).
void signal_worker(uv_process_t* process, int signum);

// The worker itself has exited: kills what is left of its group.
void kill_worker_remains(int pid);

class WorkerGuard {
 public:
  virtual ~WorkerGuard() = default;
  virtual void watch(int pid) = 0;   // a worker was spawned
  virtual void forget(int pid) = 0;  // ... and its group is gone
};

// Starts the guard process. nullptr and a reason when it cannot run; where the platform
// kills children with their parent by itself (Windows: libuv's job object) a guard that
// does nothing.
// `as`: the user the master is about to become.
std::unique_ptr<WorkerGuard> start_worker_guard(uv_loop_t* loop, const std::optional<Ids>& as, std::string& error);

// The guard process: `supervisor __worker-guard`, started by start_worker_guard(). Reads
// "+PID" and "-PID" lines on stdin; at end of file (the master is gone, however it went)
// kills every group still listed, and exits.
inline constexpr std::string_view kWorkerGuardCommand = "__worker-guard";
int run_worker_guard();

}  // namespace handoff::platform
