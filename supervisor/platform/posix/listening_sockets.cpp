// Linux: the processes of the worker's group are the /proc entries whose stat names it as
// their process group; their descriptors that are "socket:[INODE]" are matched against the
// listening rows of /proc/PID/net/tcp and tcp6 (their network namespace's). Elsewhere
// nothing is found, and hints go without it.
#include <dirent.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "supervisor/platform/platform.h"
#include "supervisor/platform/posix/proc_net_tcp.h"

namespace handoff::platform {

#ifdef __linux__
namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// The process group in /proc/PID/stat: after the command in parentheses (which may hold
// anything, spaces and ')' included) come state, ppid, pgrp.
std::optional<int> process_group(int pid) {
  const std::string stat = read_file("/proc/" + std::to_string(pid) + "/stat");
  const auto close = stat.rfind(')');
  if (close == std::string::npos) return std::nullopt;
  std::istringstream rest(stat.substr(close + 1));
  std::string state;
  int ppid = 0, pgrp = 0;
  if (!(rest >> state >> ppid >> pgrp)) return std::nullopt;
  return pgrp;
}

std::vector<int> processes_of_group(int group) {
  std::vector<int> pids;
  DIR* proc = opendir("/proc");
  if (!proc) return pids;
  while (const dirent* entry = readdir(proc)) {
    char* end = nullptr;
    const long pid = std::strtol(entry->d_name, &end, 10);
    if (pid <= 0 || *end != '\0') continue;
    if (process_group(static_cast<int>(pid)) == group) pids.push_back(static_cast<int>(pid));
  }
  closedir(proc);
  return pids;
}

std::set<std::uint64_t> socket_inodes(int pid) {
  std::set<std::uint64_t> inodes;
  const std::string dir = "/proc/" + std::to_string(pid) + "/fd";
  DIR* fds = opendir(dir.c_str());
  if (!fds) return inodes;  // gone, or another user's
  while (const dirent* entry = readdir(fds)) {
    char target[64];
    const std::string link = dir + "/" + entry->d_name;
    const ssize_t n = readlink(link.c_str(), target, sizeof target - 1);
    if (n <= 0) continue;
    const std::string_view text(target, static_cast<std::size_t>(n));
    if (text.starts_with("socket:[") && text.ends_with("]"))
      inodes.insert(std::strtoull(text.data() + 8, nullptr, 10));
  }
  closedir(fds);
  return inodes;
}

}  // namespace

std::vector<std::string> listening_tcp_addresses(int group_leader) {
  std::set<std::string> addresses;
  for (int pid : processes_of_group(group_leader)) {
    const auto inodes = socket_inodes(pid);
    if (inodes.empty()) continue;
    const std::string net = "/proc/" + std::to_string(pid) + "/net/";
    for (bool ipv6 : {false, true})
      for (const auto& [inode, address] : listening_in_proc_net_tcp(read_file(net + (ipv6 ? "tcp6" : "tcp")), ipv6))
        if (inodes.contains(inode)) addresses.insert(address);
  }
  return {addresses.begin(), addresses.end()};
}

#else

std::vector<std::string> listening_tcp_addresses(int) { return {}; }

#endif

}  // namespace handoff::platform
