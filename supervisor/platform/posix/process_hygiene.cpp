#include "supervisor/platform/process_hygiene.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <vector>

namespace handoff::platform {

void ignore_harmless_signals() {
  std::signal(SIGPIPE, SIG_IGN);
  std::signal(SIGUSR1, SIG_IGN);
}

std::optional<DescriptorLimit> raise_descriptor_limit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return std::nullopt;
  DescriptorLimit out{limit.rlim_cur, limit.rlim_cur, limit.rlim_max};
  if (limit.rlim_cur < limit.rlim_max) {
    rlimit raised = limit;
    raised.rlim_cur = limit.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &raised) == 0) out.now = raised.rlim_cur;
  }
  return out;
}

int close_inherited_on_exec() {
  // Listed first, marked after: the directory's own descriptor must not be touched while
  // it is being read.
  std::vector<int> fds;
  if (DIR* dir = opendir("/proc/self/fd")) {
    const int own = dirfd(dir);
    while (dirent* entry = readdir(dir)) {
      char* end = nullptr;
      const long fd = std::strtol(entry->d_name, &end, 10);
      if (end == entry->d_name || *end != '\0' || fd <= 2 || fd == own) continue;
      fds.push_back(static_cast<int>(fd));
    }
    closedir(dir);
  }
  int marked = 0;
  for (const int fd : fds) {
    const int flags = fcntl(fd, F_GETFD);
    if (flags < 0 || (flags & FD_CLOEXEC)) continue;
    if (fcntl(fd, F_SETFD, flags | FD_CLOEXEC) == 0) ++marked;
  }
  return marked;
}

}  // namespace handoff::platform
