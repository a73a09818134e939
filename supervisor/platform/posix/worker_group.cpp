#include "supervisor/platform/worker_group.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <set>

#include "uvglue/uv_handle.h"

namespace handoff::platform {

unsigned int worker_spawn_flags() { return UV_PROCESS_DETACHED; }  // setsid() in the child

std::string spawn_error(int uv_error) { return uv_strerror(uv_error); }  // errno has a name

void signal_worker(uv_process_t* process, int signum) {
  // The worker leads its group (worker_spawn_flags); if it somehow does not, the pid alone.
  if (::kill(-process->pid, signum) != 0) uv_process_kill(process, signum);
}

void kill_worker_remains(int pid) { ::kill(-pid, SIGKILL); }

namespace {

class PipeGuard final : public WorkerGuard {
 public:
  PipeGuard(int write_fd, UvHandle<uv_process_t> process) : fd_(write_fd), process_(std::move(process)) {}
  // Closing our end is what tells the guard we are gone; a clean stop has no workers left.
  ~PipeGuard() override { ::close(fd_); }
  void watch(int pid) override { say('+', pid); }
  void forget(int pid) override { say('-', pid); }

 private:
  void say(char what, int pid) {
    char line[32];
    const int n = std::snprintf(line, sizeof line, "%c%d\n", what, pid);
    // Shorter than PIPE_BUF: written whole or not at all. A guard that died makes it
    // EPIPE (SIGPIPE is ignored): the workers lose their insurance, nothing else.
    while (::write(fd_, line, static_cast<size_t>(n)) < 0 && errno == EINTR) {
    }
  }

  int fd_;
  UvHandle<uv_process_t> process_;
};

}  // namespace

std::unique_ptr<WorkerGuard> start_worker_guard(uv_loop_t* loop, const std::optional<Ids>& as, std::string& error) {
  char exe[4096];
  size_t size = sizeof exe;
  if (const int rc = uv_exepath(exe, &size); rc != 0) {
    error = std::string("cannot find the supervisor's own executable: ") + uv_strerror(rc);
    return nullptr;
  }
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    error = std::string("pipe: ") + std::strerror(errno);
    return nullptr;
  }
  std::string command(kWorkerGuardCommand);
  char* args[] = {exe, command.data(), nullptr};
  uv_stdio_container_t stdio[3];
  stdio[0].flags = UV_INHERIT_FD;
  stdio[0].data.fd = fds[0];
  stdio[1].flags = UV_INHERIT_FD;
  stdio[1].data.fd = 1;
  stdio[2].flags = UV_INHERIT_FD;
  stdio[2].data.fd = 2;
  uv_process_options_t options{};
  options.file = exe;
#ifdef __linux__
  // The running binary itself, wherever it lies: /proc/self/exe is followed without
  // looking its directories up again, so a master whose user may not search them (a
  // service user, a build in a 0700 directory) still starts it, and a binary replaced on
  // disk by an upgrade meanwhile is not the one that runs.
  options.file = "/proc/self/exe";
#endif
  options.args = args;
  options.stdio = stdio;
  options.stdio_count = 3;
  options.flags = UV_PROCESS_DETACHED;  // its own session: no terminal signal reaches it
  if (as) {
    options.flags |= UV_PROCESS_SETUID | UV_PROCESS_SETGID;
    options.uid = static_cast<uv_uid_t>(as->uid);
    options.gid = static_cast<uv_gid_t>(as->gid);
  }
  options.exit_cb = [](uv_process_t*, int64_t status, int signal) {
    std::fprintf(stderr, "the worker guard exited (status %lld, signal %d): workers will not die with a killed master\n",
                 static_cast<long long>(status), signal);
  };
  auto process = UvHandle<uv_process_t>::make();
  // The guard must be able to kill workers that run as other users, as the master can.
  const int rc = [&] {
    KillCapabilityForChild kill_capability;
    return uv_spawn(loop, process.get(), &options);
  }();
  process.mark_initialized();
  ::close(fds[0]);
  if (rc != 0) {
    ::close(fds[1]);
    error = std::string("cannot start the worker guard: ") + uv_strerror(rc);
    return nullptr;
  }
  uv_unref(process.base());  // never the reason the master's loop keeps running
  return std::make_unique<PipeGuard>(fds[1], std::move(process));
}

int run_worker_guard() {
  std::signal(SIGINT, SIG_IGN);
  std::signal(SIGHUP, SIG_IGN);
  std::set<int> groups;
  std::string pending;
  char buffer[4096];
  for (;;) {
    const ssize_t n = ::read(0, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    pending.append(buffer, static_cast<size_t>(n));
    std::size_t newline;
    while ((newline = pending.find('\n')) != std::string::npos) {
      const std::string line = pending.substr(0, newline);
      pending.erase(0, newline + 1);
      if (line.size() < 2) continue;
      const int pid = std::atoi(line.c_str() + 1);
      if (pid <= 1) continue;
      if (line[0] == '+') groups.insert(pid);
      else if (line[0] == '-') groups.erase(pid);
    }
  }
  for (const int pid : groups) ::kill(-pid, SIGKILL);
  return 0;
}

}  // namespace handoff::platform
