// The floor of handing sockets to Node over its IPC channel: a minimal master that accepts
// on PORT and hands every connection to one of NPROC children (round robin) exactly as
// the supervisor does (Node's `json` channel on fd 3, one NODE_HANDLE line with the
// descriptor in SCM_RIGHTS, one handle in flight per child until its NODE_HANDLE_ACK), and
// nothing else: no config, no routing, no libuv, no timers. What Node's side costs over
// it is the floor of the Node path (docs/benchmarks.md).
//
//   cc -O2 -o ipc_sender bench/reference/ipc_sender.c
//   PORT=8080 HOST=127.0.0.1 NPROC=2 ./ipc_sender node bench/node-ipc-floor.js
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_CHILDREN 16
#define QUEUE 65536

struct child {
  int channel;       // our end of the socketpair
  pid_t pid;
  int in_flight;     // descriptor awaiting its ACK, -1: none
  int queue[QUEUE];  // accepted descriptors waiting, a ring
  unsigned head, tail;
  char line[512];    // the in-flight line, for a NACK
  size_t line_len;
  char in[4096];     // bytes read, up to the last complete line
  size_t in_len;
};

static struct child children[MAX_CHILDREN];
static int nproc = 2;
static unsigned long long next_id = 1;

static void die(const char* what) {
  perror(what);
  exit(1);
}

static int send_line(struct child* c) {
  char control[CMSG_SPACE(sizeof(int))];
  memset(control, 0, sizeof control);
  struct iovec iov = {c->line, c->line_len};
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control, .msg_controllen = sizeof control};
  struct cmsghdr* cm = CMSG_FIRSTHDR(&msg);
  cm->cmsg_level = SOL_SOCKET;
  cm->cmsg_type = SCM_RIGHTS;
  cm->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(cm), &c->in_flight, sizeof(int));
  // The channel is blocking: a line this short goes whole.
  return sendmsg(c->channel, &msg, MSG_NOSIGNAL) == (ssize_t)c->line_len ? 0 : -1;
}

static void pump(struct child* c) {
  if (c->in_flight >= 0 || c->head == c->tail) return;
  int fd = c->queue[c->head++ % QUEUE];
  struct sockaddr_in peer;
  socklen_t len = sizeof peer;
  char address[INET_ADDRSTRLEN] = "";
  int port = 0;
  if (getpeername(fd, (struct sockaddr*)&peer, &len) == 0) {
    inet_ntop(AF_INET, &peer.sin_addr, address, sizeof address);
    port = ntohs(peer.sin_port);
  }
  c->in_flight = fd;
  c->line_len = (size_t)snprintf(c->line, sizeof c->line,
                                 "{\"cmd\":\"NODE_HANDLE\",\"type\":\"net.Socket\",\"msg\":{\"handoff\":\"conn\",\"v\":1,"
                                 "\"id\":%llu,\"remote\":\"%s\",\"port\":%d,\"listener\":\"web\"}}\n",
                                 next_id++, address, port);
  if (send_line(c) != 0) die("sendmsg");
}

static void on_channel(struct child* c) {
  ssize_t n = read(c->channel, c->in + c->in_len, sizeof c->in - c->in_len);
  if (n <= 0) {
    fprintf(stderr, "ipc_sender: child %d closed its channel\n", (int)c->pid);
    exit(1);
  }
  c->in_len += (size_t)n;
  char* start = c->in;
  char* end;
  while ((end = memchr(start, '\n', c->in_len - (size_t)(start - c->in))) != NULL) {
    *end = '\0';
    if (strstr(start, "\"NODE_HANDLE_ACK\"") && c->in_flight >= 0) {
      close(c->in_flight);
      c->in_flight = -1;
      pump(c);
    } else if (strstr(start, "\"NODE_HANDLE_NACK\"") && c->in_flight >= 0) {
      if (send_line(c) != 0) die("sendmsg");
    }  // hello, ready, stats...: not ours to answer
    start = end + 1;
  }
  c->in_len -= (size_t)(start - c->in);
  memmove(c->in, start, c->in_len);
  if (c->in_len == sizeof c->in) c->in_len = 0;  // an overlong line: dropped
}

int main(int argc, char** argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: PORT=N [HOST=a.b.c.d] [NPROC=2] ipc_sender command [args...]\n");
    return 2;
  }
  const char* port = getenv("PORT");
  const char* host = getenv("HOST") ? getenv("HOST") : "127.0.0.1";
  if (getenv("NPROC")) nproc = atoi(getenv("NPROC"));
  if (!port || nproc < 1 || nproc > MAX_CHILDREN) return 2;
  signal(SIGPIPE, SIG_IGN);

  int listener = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons((unsigned short)atoi(port))};
  inet_pton(AF_INET, host, &address.sin_addr);
  if (bind(listener, (struct sockaddr*)&address, sizeof address) != 0) die("bind");
  if (listen(listener, 511) != 0) die("listen");

  for (int i = 0; i < nproc; ++i) {
    int pair[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0) die("socketpair");
    pid_t pid = fork();
    if (pid < 0) die("fork");
    if (pid == 0) {
      if (dup2(pair[1], 3) < 0) die("dup2");  // dup2 clears close-on-exec on fd 3
      setenv("NODE_CHANNEL_FD", "3", 1);
      setenv("NODE_CHANNEL_SERIALIZATION_MODE", "json", 1);
      execvp(argv[1], argv + 1);
      die("exec");
    }
    close(pair[1]);
    children[i].channel = pair[0];
    children[i].pid = pid;
    children[i].in_flight = -1;
  }

  struct pollfd fds[MAX_CHILDREN + 1];
  unsigned next = 0;
  for (;;) {
    fds[0] = (struct pollfd){.fd = listener, .events = POLLIN};
    for (int i = 0; i < nproc; ++i) fds[i + 1] = (struct pollfd){.fd = children[i].channel, .events = POLLIN};
    if (poll(fds, (nfds_t)nproc + 1, -1) < 0) {
      if (errno == EINTR) continue;
      die("poll");
    }
    for (int i = 0; i < nproc; ++i)
      if (fds[i + 1].revents) on_channel(&children[i]);
    if (fds[0].revents & POLLIN) {
      int fd;
      while ((fd = accept4(listener, NULL, NULL, SOCK_CLOEXEC)) >= 0) {
        struct child* c = &children[next++ % (unsigned)nproc];
        if (c->tail - c->head == QUEUE) {
          close(fd);
          continue;
        }
        c->queue[c->tail++ % QUEUE] = fd;
        pump(c);
      }
    }
  }
}
