// Linux capabilities in place of root (the systemd unit: a user of its own with
// AmbientCapabilities=). Ambient capabilities pass through execve to every child, so
// a worker would hold CAP_SETUID (any user, root included) and CAP_KILL. The master keeps
// them in its permitted and effective sets, which are its own and which a fork still has
// until the child's execve (libuv's setgid/setuid to an app's `user:` happens there),
// and empties the ambient set. Elsewhere there is no such thing: nothing to do.
#include "supervisor/platform/platform.h"

#ifdef __linux__
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#endif

namespace handoff::platform {

void keep_capabilities_from_workers() {
#ifdef __linux__
  (void)::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
#endif
}

bool clear_capabilities(std::string& error) {
#ifdef __linux__
  // Lowering is always allowed. Raw capset(2): glibc has no wrapper, libcap is not needed.
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {};
  if (::syscall(SYS_capset, &header, data) != 0) {
    error = std::string("capset: ") + std::strerror(errno);
    return false;
  }
#else
  (void)error;
#endif
  return true;
}

KillCapabilityForChild::KillCapabilityForChild() {
#ifdef __linux__
  // Possible only when CAP_KILL is permitted and inheritable (as systemd leaves an ambient
  // capability); a root master without it needs none.
  raised_ = ::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_KILL, 0, 0) == 0;
#endif
}

KillCapabilityForChild::~KillCapabilityForChild() {
#ifdef __linux__
  if (raised_) (void)::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_LOWER, CAP_KILL, 0, 0);
#endif
}

}  // namespace handoff::platform
