// What the supervisor needs from the operating system beyond libuv. One implementation
// per platform: platform/posix/*.cpp and platform/win/*.cpp, chosen by CMake.
#pragma once

#include <uv.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "supervisor/core/host_facts.h"

namespace handoff::platform {

// The types the core's HostFacts answers with, which these functions implement.
using ExecOverflow = handoff::ExecOverflow;
using Ids = handoff::UserIds;

// The absolute path of an executable: a name with a directory separator is taken
// relative to cwd; a bare name is looked up in PATH (and PATHEXT on Windows).
std::optional<std::string> find_executable(const std::string& program, const std::string& cwd);

// What the OS refuses to copy into a new process (core/host_facts.h says what each field
// means). `env` holds "NAME=value" strings, as the process gets them. nullopt when it all fits.
std::optional<ExecOverflow> exec_overflow(const std::vector<std::string>& argv, const std::vector<std::string>& env);

// Number of descriptors (handles) this process has open, for leak checks and status.
int open_descriptor_count();

// The uid and gid for a user name (and optional group name; default: the user's primary
// group). nullopt and a reason when either is unknown or the platform has no such thing.
std::optional<Ids> resolve_user(const std::string& user, const std::string& group, std::string& error);

// Gives up root (or the capabilities held instead) for good, after the listeners are
// bound. False and a reason on failure.
bool drop_privileges(const Ids& ids, std::string& error);

// Started with capabilities instead of root (systemd's AmbientCapabilities=): keeps them
// for the master only, so that no worker inherits them. Called once, first thing.
void keep_capabilities_from_workers();
// Gives up every capability (permitted, effective, inheritable, ambient). After a setuid
// from root the kernel has done it; from a user with capabilities it has not.
bool clear_capabilities(std::string& error);
// While it lives, the next child spawned inherits CAP_KILL (the worker guard, which must
// kill workers running as other users), if the master holds it. Linux only.
class KillCapabilityForChild {
 public:
  KillCapabilityForChild();
  ~KillCapabilityForChild();
  KillCapabilityForChild(const KillCapabilityForChild&) = delete;
  KillCapabilityForChild& operator=(const KillCapabilityForChild&) = delete;

 private:
  bool raised_ = false;
};

// How many CPUs this process may run on: its affinity mask (sched_getaffinity on Linux, so
// `taskset` and cgroup cpusets count; the process affinity mask on Windows), at least 1.
// `workers: auto` starts one worker per CPU counted here.
int usable_cpu_count();

// The TCP addresses ("0.0.0.0:3000", "[::]:3000") on which a process, or any process of
// the process group it leads, listens itself: a worker that does so took a port instead of
// taking its connections from the master. Linux reads /proc; elsewhere empty.
std::vector<std::string> listening_tcp_addresses(int group_leader);

// What the OS counts of a process (pid 0: this one): resident memory, address space and
// CPU time (user + system; of that process alone, not of its children).
struct ProcessUsage {
  std::uint64_t rss = 0;            // bytes
  std::uint64_t virtual_bytes = 0;  // 0 where the OS does not say (Windows)
  std::uint64_t cpu_ms = 0;
};
std::optional<ProcessUsage> process_usage(int pid);

// This process's descriptor limit (RLIMIT_NOFILE); nullopt where there is none (Windows).
std::optional<std::uint64_t> descriptor_limit();

// How many processes the kernel's OOM killer has killed in our memory domain (the
// cgroup on Linux); read before and after a SIGKILL to tell an OOM kill from others.
std::optional<std::uint64_t> oom_kill_count();

// Reading a request head without taking it from the kernel, so the worker gets a pristine
// socket. Where the platform cannot peek (Windows), can_peek() is false and the master
// reads the bytes and carries them with the handle instead.
bool can_peek();
// The OS socket under a libuv TCP handle.
uv_os_sock_t socket_of(const uv_tcp_t* tcp);
// A listening socket rather than a connection (a worker must never hand one back).
bool is_listening(uv_os_sock_t socket);
// Copies up to `length` bytes from the front of the socket's receive queue, leaving them
// there. Returns the count, 0 at end of stream, or a negative libuv error (UV_EAGAIN when
// nothing is there yet).
long peek_socket(uv_os_sock_t socket, char* buffer, std::size_t length);
// Reads and drops `length` bytes that peek_socket() showed (a PROXY protocol header).
long discard_socket(uv_os_sock_t socket, std::size_t length);
// Writes `pieces` in order with one system call, without blocking and without SIGPIPE:
// the bytes written, or a negative libuv error. Sockets the master holds without a libuv
// handle only (POSIX); UV_ENOSYS elsewhere.
long send_socket(uv_os_sock_t socket, const std::string_view* pieces, std::size_t count);
// A listening socket accepts a connection only once its first bytes arrived
// (TCP_DEFER_ACCEPT): the master's first peek then finds the head, without a wait in the
// loop. No-op where the platform has no such option.
void accept_when_data_arrives(uv_os_sock_t listening_socket);
// Readiness only once `bytes` are in the receive queue (SO_RCVLOWAT), so a partial head
// does not wake the loop again until more arrives. 1 restores the default.
void set_receive_low_water(uv_os_sock_t socket, std::size_t bytes);

// Accepting without a libuv handle per connection: the listening socket is watched with a
// poll handle and each connection is a plain descriptor until the master must read or
// write it (edge/client_socket.h). POSIX only (accept4 also gives the peer's address);
// Windows listeners keep libuv's uv_listen and uv_accept.
bool can_accept_plain();
// A non-blocking, close-on-exec TCP socket bound to host:port with SO_REUSEADDR, as
// libuv's uv_tcp_bind makes it (an IPv6 one dual-stack as the system says), but bound at
// once: libuv reports EADDRINUSE only at uv_listen. `reuseport`: SO_REUSEPORT too
// (kernel dispatch's groups); `listen`: listening with `backlog`. The descriptor, or -1
// and a libuv error in `error`.
std::intptr_t open_tcp_socket(const std::string& host, int port, bool reuseport, bool listen, int backlog, int& error);
// Closes a socket descriptor no libuv handle owns.
void close_socket(std::intptr_t socket);
// Makes a bound socket listen. 0 or a negative libuv error.
int listen_socket(uv_os_sock_t socket, int backlog);
// One waiting connection: a non-blocking, close-on-exec descriptor, and the peer's address
// in `peer`; or a negative libuv error (UV_EAGAIN: none waits).
std::intptr_t accept_plain(uv_os_sock_t listening_socket, sockaddr_storage& peer);
// Writes `bytes` on a worker's channel (a Unix socket) with `socket` attached (SCM_RIGHTS),
// without blocking: the count written (the descriptor goes with the first byte), 0 when
// there is no room now, or a negative libuv error. The caller makes sure libuv has nothing
// queued on the channel. UV_ENOSYS on Windows, where libuv sends sockets.
long send_with_socket(const uv_pipe_t* channel, std::string_view bytes, uv_os_sock_t socket);

// The most handles in flight to one worker that asks for a window (its `hello`): each
// descriptor arrives in its own read on Linux (unix(7) ends a read after the data that
// carried descriptors). Windows keeps 1: libuv's frames there are untested with more.
int max_handle_window();

// stdout and stderr write bytes as they are: the log's lines end in "\n" on every platform
// (the Windows C runtime would otherwise write "\r\n").
void use_binary_stdio();
// `path` opened for appending bytes as they are, not inherited by the workers (the log
// file). Null with errno set when it cannot be.
std::FILE* open_log_append(const std::string& path);

// What the supervisor does when libuv reports a signal. On Windows libuv reports console
// events as signals: Ctrl+C as SIGINT, Ctrl+Break as SIGBREAK, the console closing as SIGHUP.
// SIGUSR1 (POSIX only): reopen `log_file`, logrotate's convention.
enum class SignalAction { shutdown, reload, reopen_logs };
struct SignalBinding {
  int signum;
  SignalAction action;
};
std::vector<SignalBinding> supervisor_signals();

}  // namespace handoff::platform
