#include "supervisor/platform/worker_group.h"

namespace handoff::platform {

// libuv starts every child in a job object that the system kills with the master, and a
// worker's own children join it: the job is the group and the guard at once.
unsigned int worker_spawn_flags() { return 0; }

void signal_worker(uv_process_t* process, int signum) { uv_process_kill(process, signum); }

void kill_worker_remains(int) {}

namespace {
class JobGuard final : public WorkerGuard {
 public:
  void watch(int) override {}
  void forget(int) override {}
};
}  // namespace

std::unique_ptr<WorkerGuard> start_worker_guard(uv_loop_t*, const std::optional<Ids>&, std::string&) { return std::make_unique<JobGuard>(); }

int run_worker_guard() { return 2; }  // never started on Windows

}  // namespace handoff::platform
