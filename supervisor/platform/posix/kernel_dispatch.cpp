#include "supervisor/platform/kernel_dispatch.h"

#include "supervisor/core/routing/source_hash_program.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#ifdef __linux__
#include <linux/filter.h>
#endif

#include <cerrno>
#include <cstring>

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
  sockaddr_storage address{};
  socklen_t length = 0;
  if (host.find(':') != std::string::npos) {
    auto* in6 = reinterpret_cast<sockaddr_in6*>(&address);
    if ((error = uv_ip6_addr(host.c_str(), port, in6)) != 0) return -1;
    length = sizeof *in6;
  } else {
    auto* in4 = reinterpret_cast<sockaddr_in*>(&address);
    if ((error = uv_ip4_addr(host.c_str(), port, in4)) != 0) return -1;
    length = sizeof *in4;
  }
  const int fd = ::socket(address.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    error = uv_translate_sys_error(errno);
    return -1;
  }
  const int on = 1;
  // As the master's own listeners (uv_tcp_bind without UV_TCP_IPV6ONLY): SO_REUSEADDR
  // (TIME_WAIT), and an IPv6 socket as the system makes it ("::" takes IPv4 clients too,
  // as IPv4-mapped addresses, unless net.ipv6.bindv6only says otherwise).
  bool ok = ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) == 0 &&
            ::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof on) == 0 &&
            ::bind(fd, reinterpret_cast<const sockaddr*>(&address), length) == 0 && (!listen || ::listen(fd, backlog) == 0);
  if (!ok) {
    error = uv_translate_sys_error(errno);
    ::close(fd);
    return -1;
  }
  error = 0;
  return fd;
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
// The generator (core, no Linux headers) spells classic BPF's encoding itself.
static_assert(sizeof(BpfInsn) == sizeof(sock_filter));
static_assert(bpf::LD == BPF_LD && bpf::ALU == BPF_ALU && bpf::JMP == BPF_JMP && bpf::RET == BPF_RET &&
              bpf::MISC == BPF_MISC && bpf::W == BPF_W && bpf::B == BPF_B && bpf::ABS == BPF_ABS);
static_assert(bpf::MUL == BPF_MUL && bpf::AND == BPF_AND && bpf::RSH == BPF_RSH && bpf::XOR == BPF_XOR &&
              bpf::JA == BPF_JA && bpf::JEQ == BPF_JEQ && bpf::JGE == BPF_JGE && bpf::K == BPF_K &&
              bpf::X == BPF_X && bpf::A == BPF_A && bpf::TAX == BPF_TAX && bpf::TXA == BPF_TXA);
static_assert(bpf::kNetOff == SKF_NET_OFF && bpf::kMaxInsns == BPF_MAXINSNS);
#endif

bool attach_source_hash(std::intptr_t socket, int slots, std::span<const std::uint32_t> group_index, std::string& why) {
#ifdef __linux__
  const std::vector<BpfInsn> program =
      generate_source_hash_program(static_cast<std::uint32_t>(slots < 1 ? 1 : slots), group_index);
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
