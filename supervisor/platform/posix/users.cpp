#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "supervisor/platform/platform.h"

namespace handoff::platform {

std::optional<Ids> resolve_user(const std::string& user, const std::string& group, std::string& error) {
  std::vector<char> buffer(16384);
  passwd pw{};
  passwd* found = nullptr;
  if (getpwnam_r(user.c_str(), &pw, buffer.data(), buffer.size(), &found) != 0 || !found) {
    error = "no such user \"" + user + "\"";
    return std::nullopt;
  }
  Ids ids{static_cast<std::uint32_t>(pw.pw_uid), static_cast<std::uint32_t>(pw.pw_gid)};
  if (!group.empty()) {
    struct group gr {};
    struct group* g = nullptr;
    if (getgrnam_r(group.c_str(), &gr, buffer.data(), buffer.size(), &g) != 0 || !g) {
      error = "no such group \"" + group + "\"";
      return std::nullopt;
    }
    ids.gid = static_cast<std::uint32_t>(gr.gr_gid);
  }
  return ids;
}

bool drop_privileges(const Ids& ids, std::string& error) {
  // Supplementary groups first (while still root), then the group, then the user:
  // after setuid nothing else may change.
  const gid_t gid = ids.gid;
  if (setgroups(1, &gid) != 0 || setgid(ids.gid) != 0 || setuid(ids.uid) != 0) {
    error = std::strerror(errno);
    return false;
  }
  // A master started with capabilities instead of root (the systemd unit) still holds
  // them after setuid: for good means those too.
  return clear_capabilities(error);
}

}  // namespace handoff::platform
