#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <csignal>
#include <cstring>

#include "supervisor/platform/service.h"

namespace handoff::platform {

std::int64_t current_pid() { return ::getpid(); }

std::uint32_t effective_uid() { return ::geteuid(); }

bool process_alive(std::int64_t pid) {
  if (pid <= 0) return false;
  // EPERM: it exists but belongs to someone else; still alive.
  return ::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM;
}

std::optional<std::uint32_t> peer_uid(std::intptr_t fd) {
  ucred credentials{};
  socklen_t length = sizeof credentials;
  if (::getsockopt(static_cast<int>(fd), SOL_SOCKET, SO_PEERCRED, &credentials, &length) != 0) return std::nullopt;
  return credentials.uid;
}

bool restrict_local_endpoint(uv_pipe_t*, const std::string& path, std::string& error) {
  if (::chmod(path.c_str(), S_IRUSR | S_IWUSR) == 0) return true;
  error = std::strerror(errno);
  return false;
}

std::string local_endpoint_access(uv_pipe_t*, const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return "unknown";
  char mode[8];
  std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
  return mode;
}

bool give_file(const std::string& path, const Ids& ids, std::string& error) {
  if (::chown(path.c_str(), ids.uid, ids.gid) == 0) return true;
  error = std::strerror(errno);
  return false;
}

bool give_shared_memory(std::intptr_t handle, const Ids& ids, std::string& error) {
  const int fd = static_cast<int>(handle);
  // The mode first: once the segment is another user's, only CAP_FOWNER may change it (a
  // master that is not root but holds CAP_CHOWN, as the systemd unit runs it, has none).
  if (::fchmod(fd, S_IRUSR | S_IWUSR) != 0 || ::fchown(fd, ids.uid, ids.gid) != 0) {
    error = std::strerror(errno);
    return false;
  }
  return true;
}

std::string local_endpoint(const std::string& path) { return path; }

}  // namespace handoff::platform
