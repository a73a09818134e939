// A worker that breaks the rules, for tests/integration/faults.test.js: it speaks the IPC
// channel by hand (raw sendmsg/recvmsg on fd 3), so it can do what no SDK would.
//
//   fault-worker MODE
//
// Slot 1's first generation misbehaves as MODE says, from the first connection it is
// given; every other worker (the other slots, slot 1's replacement) execs hello-cpp from
// the same directory, so a test sees the bad worker replaced by a good one.
//
// Modes: no-ack, nack, window-nack (nack after a hello that asked for a window of 4), close-channel, shut-read, garbage-then-ack (well-behaved, but its ACK shares
// a write with garbage), flood (well-behaved after 9 MB of oversize lines and 2,000 bad ones), handback-pipe, handback-unix, handback-listening, two-fds,
// fd-without-message, handback-without-fd.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <string>
#include <variant>
#include <vector>

#include "protocols/ipc_messages.h"

namespace {

namespace ipc = handoff::ipc;
constexpr int kChannel = 3;

// Writes `line` on the channel with `fds` attached to its first byte (as uv_write2 does).
void send_line(const std::string& line, const std::vector<int>& fds = {}) {
  iovec iov{const_cast<char*>(line.data()), line.size()};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  std::vector<char> control(CMSG_SPACE(sizeof(int) * (fds.empty() ? 1 : fds.size())));
  if (!fds.empty()) {
    msg.msg_control = control.data();
    msg.msg_controllen = CMSG_SPACE(sizeof(int) * fds.size());
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
    std::memcpy(CMSG_DATA(c), fds.data(), sizeof(int) * fds.size());
  }
  if (sendmsg(kChannel, &msg, MSG_NOSIGNAL) < 0) std::exit(3);
}

void send_message(const ipc::Message& m, const std::vector<int>& fds = {}) { send_line(ipc::encode(m), fds); }

// Reads what is there (waiting up to `wait_ms`); returns false at end of stream.
bool receive(std::string& bytes, std::vector<int>& fds, int wait_ms) {
  pollfd p{kChannel, POLLIN, 0};
  if (poll(&p, 1, wait_ms) <= 0) return true;
  char buffer[65536];
  char control[CMSG_SPACE(sizeof(int) * 8)];
  iovec iov{buffer, sizeof buffer};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  const ssize_t n = recvmsg(kChannel, &msg, MSG_CMSG_CLOEXEC);
  if (n <= 0) return false;
  bytes.append(buffer, static_cast<size_t>(n));
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c))
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
      const auto count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
      for (std::size_t i = 0; i < count; ++i) {
        int fd;
        std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
        fds.push_back(fd);
      }
    }
  return true;
}

// Answers the request on `fd` itself, as any worker would, and closes it.
void serve(int fd) {
  char buffer[4096];
  (void)!recv(fd, buffer, sizeof buffer, 0);
  const std::string response = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\nX-Handoff-Worker: fault\r\n\r\nfault";
  (void)!send(fd, response.data(), response.size(), MSG_NOSIGNAL);
  shutdown(fd, SHUT_WR);
  close(fd);
}

int listening_socket() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  listen(fd, 1);
  return fd;
}

ipc::Handback handback_of(const ipc::Handle& handle) {
  return {handle.conn.id, handle.conn.remote_address, handle.conn.remote_port, handle.conn.listener, {}};
}

// What the mode does with the first connection it is given (and after).
void misbehave(const std::string& mode, const ipc::Handle& handle, int fd) {
  if (mode == "no-ack") return;  // keeps it, says nothing, goes on heartbeating
  if (mode == "nack" || mode == "window-nack") {
    close(fd);
    send_message(ipc::HandleNack{});
    return;
  }
  if (mode == "close-channel") {
    close(kChannel);
    pause();  // alive, holding the connection, unreachable
    std::exit(0);
  }
  if (mode == "garbage-then-ack" || mode == "flood") {
    send_line("this is not json\n" + ipc::encode(ipc::HandleAck{}));
    serve(fd);
    return;
  }
  send_message(ipc::HandleAck{});
  const auto back = handback_of(handle);
  if (mode == "handback-pipe") {
    int p[2];
    (void)!pipe(p);
    send_message(back, {p[0]});
  } else if (mode == "handback-unix") {
    int s[2];
    socketpair(AF_UNIX, SOCK_STREAM, 0, s);
    send_message(back, {s[0]});
  } else if (mode == "handback-listening") {
    send_message(back, {listening_socket()});
  } else if (mode == "two-fds") {
    send_message(back, {fd, dup(fd)});
  } else if (mode == "fd-without-message") {
    send_message(ipc::Stats{}, {fd});
  } else if (mode == "handback-without-fd") {
    for (int i = 0; i < 2 * ipc::kMaxHandleResends + 2; ++i) send_message(back);
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  const char* slot = std::getenv("HANDOFF_SLOT");
  const char* generation = std::getenv("HANDOFF_GENERATION");
  if (!slot || !generation || std::string(slot) != "1" || std::string(generation) != "1") {
    std::string hello = argv[0];
    hello = hello.substr(0, hello.rfind('/') + 1) + "hello-cpp";
    char* args[] = {hello.data(), nullptr};
    execv(hello.c_str(), args);
    return 127;
  }
  const std::string mode = argv[1];
  send_message(ipc::Hello{.sdk = "fault", .version = ipc::kVersion, .pid = getpid(), .window = mode == "window-nack" ? 4 : 1});
  // shut-read: its channel takes no more messages, while it still writes its heartbeats:
  // the master's next write (the first handle) fails with EPIPE (a SIGPIPE, if the master
  // did not ignore it). It shuts its side after the welcome (the answer to hello) and says
  // ready only then: a handle the master wrote before the shutdown would sit unread in the
  // channel, no write would fail, and the kill would be for a missing ACK instead (seen on
  // a loaded machine).
  if (mode == "shut-read") {
    std::string welcome;
    std::vector<int> none;
    for (int i = 0; i < 100 && welcome.find('\n') == std::string::npos; ++i)
      if (!receive(welcome, none, 100)) return 0;
    shutdown(kChannel, SHUT_RD);  // reads would only see end of stream now
    send_message(ipc::Ready{});
    for (;;) {
      send_message(ipc::Stats{});
      poll(nullptr, 0, 200);
    }
  }
  send_message(ipc::Ready{});
  if (mode == "flood") {
    const std::string oversize(3 << 20, 'x');  // each over the master's 1 MiB line limit
    for (int i = 0; i < 3; ++i) send_line(oversize + "\n");
    for (int i = 0; i < 2000; ++i) send_line(i % 2 ? "{\"unterminated\n" : "[1,2,3]\n");
  }
  std::string bytes;
  std::vector<int> fds;
  bool done = false;  // it misbehaves once; then it only heartbeats
  auto next_beat = std::chrono::steady_clock::now();
  for (;;) {
    const auto now = std::chrono::steady_clock::now();
    if (now >= next_beat) {
      send_message(ipc::Stats{});
      next_beat = now + std::chrono::milliseconds(200);
    }
    if (!receive(bytes, fds, 50)) return 0;  // the master is gone
    std::size_t newline;
    while ((newline = bytes.find('\n')) != std::string::npos) {
      const std::string line = bytes.substr(0, newline);
      bytes.erase(0, newline + 1);
      auto decoded = ipc::decode(line);
      auto* message = std::get_if<ipc::Message>(&decoded);
      if (message && std::holds_alternative<ipc::Drain>(*message)) return 0;  // a stop is a stop
      auto* handle = message ? std::get_if<ipc::Handle>(message) : nullptr;
      if (!handle) continue;
      const int fd = fds.empty() ? -1 : fds.front();
      if (!fds.empty()) fds.erase(fds.begin());
      if (!done || mode == "nack" || mode == "window-nack" || mode == "garbage-then-ack" || mode == "flood") misbehave(mode, *handle, fd);
      done = true;
    }
  }
}
