#include "supervisor/platform/kernel_dispatch.h"

#include "supervisor/core/routing/source_hash_program.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <dirent.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uv.h>

#ifdef __linux__
#include <linux/filter.h>
#endif

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>

#include "supervisor/platform/platform.h"
#include "supervisor/platform/posix/proc_net_tcp.h"

namespace handoff::platform {

bool kernel_dispatch_available(std::string& why) {
#ifdef __linux__
  (void)why;
  return true;
#else
  // SO_REUSEPORT elsewhere (BSDs, macOS) does not spread connections the same way.
  why = "kernel dispatch needs Linux's SO_REUSEPORT groups";
  return false;
#endif
}

std::intptr_t open_reuseport_socket(const std::string& host, int port, bool listen, int backlog, int& error) {
  return open_tcp_socket(host, port, true, listen, backlog, error);
}

std::intptr_t duplicate_socket(std::intptr_t socket) { return ::fcntl(static_cast<int>(socket), F_DUPFD_CLOEXEC, 0); }

std::vector<std::intptr_t> accept_waiting(std::intptr_t listening_socket) {
  std::vector<std::intptr_t> accepted;
  // Bounded by the backlog in practice; the cap is for a peer flooding us meanwhile.
  for (int i = 0; i < 65536; ++i) {
    const int fd = ::accept4(static_cast<int>(listening_socket), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      break;  // EAGAIN: the queue is empty
    }
    accepted.push_back(fd);
  }
  return accepted;
}

#ifdef __linux__
namespace {
std::optional<tcp_info> tcp_info_of(std::intptr_t socket) {
  tcp_info info{};
  socklen_t length = sizeof info;
  if (::getsockopt(static_cast<int>(socket), IPPROTO_TCP, TCP_INFO, &info, &length) != 0) return std::nullopt;
  return info;
}
}  // namespace
#endif

std::optional<std::chrono::milliseconds> waited_in_queue(std::intptr_t connection) {
#ifdef __linux__
  // The kernel stamps a new connection's receive time at the handshake (the child socket's
  // icsk_ack.lrcvtime) and again with every segment of data.
  if (const auto info = tcp_info_of(connection)) return std::chrono::milliseconds{info->tcpi_last_data_recv};
#else
  (void)connection;
#endif
  return std::nullopt;
}

std::optional<AcceptQueue> accept_queue(std::intptr_t listening_socket) {
#ifdef __linux__
  // For a listening socket the kernel reports sk_ack_backlog and sk_max_ack_backlog there.
  if (const auto info = tcp_info_of(listening_socket); info && info->tcpi_state == TCP_LISTEN)
    return AcceptQueue{info->tcpi_unacked, info->tcpi_sacked};
#else
  (void)listening_socket;
#endif
  return std::nullopt;
}

std::optional<std::uint64_t> socket_inode(std::intptr_t socket) {
  struct stat st {};
  if (::fstat(static_cast<int>(socket), &st) != 0) return std::nullopt;
  return static_cast<std::uint64_t>(st.st_ino);
}

#ifdef __linux__
namespace {

struct DirCloser {
  void operator()(DIR* d) const { ::closedir(d); }
};
using Dir = std::unique_ptr<DIR, DirCloser>;

// Bounds of one pid_holding_socket scan: processes looked at, descriptors read in all.
constexpr int kMaxProcesses = 8192;
constexpr int kMaxDescriptors = 200000;
// Rows of /proc/net/tcp{,6} read at most, per table.
constexpr int kMaxRows = 100000;

}  // namespace

std::vector<ListeningSocket> listening_sockets() {
  std::vector<ListeningSocket> out;
  for (const bool ipv6 : {false, true}) {
    std::ifstream in(ipv6 ? "/proc/self/net/tcp6" : "/proc/self/net/tcp");
    if (!in) continue;  // no IPv6 in this kernel
    // The kernel lists its listening hash before its established one, so the LISTEN rows
    // come first: reading stops at the first other row, and a host with very many
    // connections costs no more than one with few. (The state is the 4th field.)
    std::string text, line;
    for (int n = 0; n < kMaxRows && std::getline(in, line); ++n) {
      if (n > 0) {
        std::istringstream fields(line);
        std::string field;
        for (int i = 0; i < 4 && fields >> field; ++i) {
        }
        if (field != "0A") break;
      }
      text += line;
      text += '\n';
    }
    auto rows = listening_sockets_in_proc_net_tcp(text, ipv6);
    out.insert(out.end(), std::make_move_iterator(rows.begin()), std::make_move_iterator(rows.end()));
  }
  return out;
}

std::int64_t pid_holding_socket(std::uint64_t inode) {
  const std::string wanted = "socket:[" + std::to_string(inode) + "]";
  Dir proc(::opendir("/proc"));
  if (!proc) return 0;
  int processes = 0, descriptors = 0;
  while (const dirent* entry = ::readdir(proc.get())) {
    char* end = nullptr;
    const long pid = std::strtol(entry->d_name, &end, 10);
    if (pid <= 0 || *end != '\0') continue;
    if (++processes > kMaxProcesses) break;
    const std::string dir = std::string("/proc/") + entry->d_name + "/fd";
    Dir fds(::opendir(dir.c_str()));
    if (!fds) continue;  // gone, or another user's
    while (const dirent* fd = ::readdir(fds.get())) {
      if (fd->d_name[0] == '.') continue;
      if (++descriptors > kMaxDescriptors) return 0;
      char target[64];
      const std::string link = dir + "/" + fd->d_name;
      const ssize_t n = ::readlink(link.c_str(), target, sizeof target - 1);
      if (n > 0 && std::string_view(target, static_cast<std::size_t>(n)) == wanted) return pid;
    }
  }
  return 0;
}

#else

std::vector<ListeningSocket> listening_sockets() { return {}; }
std::int64_t pid_holding_socket(std::uint64_t) { return 0; }

#endif

#ifdef __linux__
// The generator (core, no Linux headers) spells classic BPF's encoding itself.
static_assert(sizeof(BpfInsn) == sizeof(sock_filter));
static_assert(bpf::LD == BPF_LD && bpf::ALU == BPF_ALU && bpf::JMP == BPF_JMP && bpf::RET == BPF_RET &&
              bpf::MISC == BPF_MISC && bpf::W == BPF_W && bpf::B == BPF_B && bpf::ABS == BPF_ABS);
static_assert(bpf::MUL == BPF_MUL && bpf::AND == BPF_AND && bpf::RSH == BPF_RSH && bpf::XOR == BPF_XOR &&
              bpf::JA == BPF_JA && bpf::JEQ == BPF_JEQ && bpf::JGE == BPF_JGE && bpf::K == BPF_K &&
              bpf::X == BPF_X && bpf::A == BPF_A && bpf::TAX == BPF_TAX && bpf::TXA == BPF_TXA);
static_assert(bpf::kNetOff == SKF_NET_OFF && bpf::kMaxInsns == BPF_MAXINSNS);
#endif

bool attach_source_hash(std::intptr_t socket, int slots, std::span<const std::uint32_t> group_index, std::string& why,
                        bool by_port) {
#ifdef __linux__
  const auto n = static_cast<std::uint32_t>(slots < 1 ? 1 : slots);
  const std::vector<BpfInsn> program =
      by_port ? generate_port_spread_program(n, group_index) : generate_source_hash_program(n, group_index);
  if (program.empty()) {
    why = "the source-address program for " + std::to_string(slots) + " slots exceeds BPF_MAXINSNS";
    return false;
  }
  std::vector<sock_filter> filter(program.size());
  for (std::size_t i = 0; i < program.size(); ++i)
    filter[i] = {program[i].code, program[i].jt, program[i].jf, program[i].k};
  sock_fprog fprog{static_cast<unsigned short>(filter.size()), filter.data()};
  // One member's setsockopt sets the program of the whole group (replacing the previous
  // one atomically: connections arriving meanwhile see the old or the new slot count).
  if (::setsockopt(static_cast<int>(socket), SOL_SOCKET, SO_ATTACH_REUSEPORT_CBPF, &fprog, sizeof fprog) != 0) {
    why = std::string("SO_ATTACH_REUSEPORT_CBPF: ") + std::strerror(errno);
    return false;
  }
  return true;
#else
  (void)socket;
  (void)slots;
  (void)group_index;
  (void)by_port;
  why = "the source-address program needs Linux's SO_ATTACH_REUSEPORT_CBPF";
  return false;
#endif
}

bool detach_source_hash(std::intptr_t socket, std::string& why) {
#ifdef __linux__
#ifndef SO_DETACH_REUSEPORT_BPF
#define SO_DETACH_REUSEPORT_BPF 68  // Linux 5.8
#endif
  const int unused = 0;
  if (::setsockopt(static_cast<int>(socket), SOL_SOCKET, SO_DETACH_REUSEPORT_BPF, &unused, sizeof unused) != 0 &&
      errno != ENOENT) {  // ENOENT: no program was attached
    why = std::string("SO_DETACH_REUSEPORT_BPF: ") + std::strerror(errno);
    return false;
  }
  return true;
#else
  (void)socket;
  why = "the source-address program needs Linux";
  return false;
#endif
}

}  // namespace handoff::platform
