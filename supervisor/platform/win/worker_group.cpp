#include "supervisor/platform/worker_group.h"

#include <windows.h>

#include <memory>
#include <string>
#include <type_traits>

namespace handoff::platform {

// A worker starts detached (DETACHED_PROCESS): it gets no console. Without the flag,
// libuv's CREATE_NO_WINDOW still gives every worker a console of its own, so Windows
// starts a conhost.exe per worker; under wine that console's set-up sometimes never
// completes, and the master's CreateProcess waits for the child for ever (seen as a
// master that stopped answering after a restart, and a conhost holding its output).
// libuv leaves a detached child out of its kill-on-close job object, so the guard below
// puts every worker in a job object of its own.
unsigned int worker_spawn_flags() { return UV_PROCESS_DETACHED; }

// libuv maps only the Windows errors it knows; the rest say "unknown error", which names
// nothing (seen under wine with two test files at once: docs/windows.md).
std::string spawn_error(int uv_error) {
  const DWORD system = GetLastError();
  std::string text = uv_strerror(uv_error);
  if (uv_error != UV_UNKNOWN || system == 0) return text;
  char message[256] = {};
  const DWORD n = FormatMessageA(FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS, nullptr, system, 0,
                                 message, sizeof message, nullptr);
  std::string said(message, n);
  while (!said.empty() && (said.back() == '\n' || said.back() == '\r' || said.back() == ' ')) said.pop_back();
  return text + " (Windows error " + std::to_string(system) + (said.empty() ? "" : ": " + said) + ")";
}

void signal_worker(uv_process_t* process, int signum) { uv_process_kill(process, signum); }

void kill_worker_remains(int) {}

namespace {

struct HandleCloser {
  void operator()(HANDLE h) const { CloseHandle(h); }
};
using OwnedHandle = std::unique_ptr<std::remove_pointer_t<HANDLE>, HandleCloser>;

// The job object is the group and the guard at once: the system kills every process in
// it when its last handle closes, which is when the master ends however it ends, and
// what a worker starts joins it. A worker is assigned right after uv_spawn returns: a
// master killed in between leaves that one worker behind, a window of microseconds.
class JobGuard final : public WorkerGuard {
 public:
  explicit JobGuard(OwnedHandle job) : job_(std::move(job)) {}
  // Runs only on a clean stop, when every worker has exited: the job has nothing left to
  // kill, so its kill-on-close goes before the handle does. (Under wine a master once
  // exited by SIGKILL right after logging its clean stop, as a terminated process does;
  // the closing job is the one thing here that terminates processes. A hypothesis.)
  ~JobGuard() override {
    JOBOBJECT_EXTENDED_LIMIT_INFORMATION none{};
    SetInformationJobObject(job_.get(), JobObjectExtendedLimitInformation, &none, sizeof none);
  }
  void watch(int pid) override {
    OwnedHandle process{OpenProcess(PROCESS_SET_QUOTA | PROCESS_TERMINATE, FALSE, static_cast<DWORD>(pid))};
    if (process) AssignProcessToJobObject(job_.get(), process.get());  // fails only if it has exited
  }
  void forget(int) override {}

 private:
  OwnedHandle job_;
};

}  // namespace

std::unique_ptr<WorkerGuard> start_worker_guard(uv_loop_t*, const std::optional<Ids>&, std::string& error) {
  OwnedHandle job{CreateJobObjectW(nullptr, nullptr)};
  JOBOBJECT_EXTENDED_LIMIT_INFORMATION limits{};
  limits.BasicLimitInformation.LimitFlags = JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE;
  if (!job || !SetInformationJobObject(job.get(), JobObjectExtendedLimitInformation, &limits, sizeof limits)) {
    error = "cannot create the workers' job object (error " + std::to_string(GetLastError()) + ")";
    return nullptr;
  }
  return std::make_unique<JobGuard>(std::move(job));
}

int run_worker_guard() { return 2; }  // never started on Windows

}  // namespace handoff::platform
