/* Reference server for bench/run.sh: the machine's limit for this work.
 * One process per core (NPROC, default 2), each with its own SO_REUSEPORT listener and a
 * level-triggered epoll loop. Answers every request head ("...\r\n\r\n") with the same
 * 13-byte body as hello-cpp and a header block of the same size; a request carrying
 * "Connection: close" gets "Connection: close" back (as hello-cpp does) and the socket is
 * closed after the answer. No request body support: the benchmark sends GETs only.
 *
 *   cc -O2 -o epoll_server epoll_server.c && PORT=8080 HOST=127.0.0.1 NPROC=2 ./epoll_server
 *
 * The parent only supervises: SIGTERM/SIGINT to it stops the children (they also get
 * SIGTERM if the parent dies, via PR_SET_PDEATHSIG). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define BUF 8192
#define MAXFD 65536

/* Same shape and size as hello-cpp's answer ("X-Handoff-Worker: standalone/0/NNNN"). */
static char ka_resp[256], close_resp[256];
static int ka_len, close_len;

struct conn { int used; int len; char buf[BUF]; };
static struct conn *conns;

static int make_listener(const char *host, int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
  inet_pton(AF_INET, host, &a.sin_addr);
  if (bind(fd, (struct sockaddr *)&a, sizeof a) < 0 || listen(fd, 511) < 0) { perror("bind/listen"); exit(1); }
  return fd;
}

static void close_conn(int ep, int fd) {
  epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
  conns[fd].used = 0; conns[fd].len = 0;
  close(fd);
}

/* Answers every complete head in the buffer; returns 0 to keep the socket, -1 to close. */
static int serve(int fd) {
  struct conn *c = &conns[fd];
  for (;;) {
    ssize_t n = read(fd, c->buf + c->len, BUF - 1 - c->len);
    if (n == 0) return -1;
    if (n < 0) return (errno == EAGAIN || errno == EWOULDBLOCK) ? 0 : -1;
    c->len += n; c->buf[c->len] = 0;
    char *start = c->buf, *end;
    while ((end = strstr(start, "\r\n\r\n")) != NULL) {
      *end = 0;
      int close_it = strcasestr(start, "\nconnection: close") != NULL;
      const char *r = close_it ? close_resp : ka_resp;
      int len = close_it ? close_len : ka_len;
      if (write(fd, r, len) != len) return -1;  /* tiny answers: a short write is a failure */
      if (close_it) return -1;
      start = end + 4;
    }
    c->len -= (int)(start - c->buf);
    memmove(c->buf, start, c->len);
    if (c->len >= BUF - 1) return -1;  /* head too large */
  }
}

static void run(const char *host, int port) {
  int lfd = make_listener(host, port), ep = epoll_create1(0);
  conns = calloc(MAXFD, sizeof *conns);
  struct epoll_event ev = {.events = EPOLLIN, .data.fd = lfd}, evs[256];
  epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
  for (;;) {
    int n = epoll_wait(ep, evs, 256, -1);
    for (int i = 0; i < n; i++) {
      int fd = evs[i].data.fd;
      if (fd == lfd) {
        int c;
        while ((c = accept4(lfd, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
          if (c >= MAXFD) { close(c); continue; }
          int one = 1;
          setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
          conns[c].used = 1; conns[c].len = 0;
          struct epoll_event ce = {.events = EPOLLIN | EPOLLRDHUP, .data.fd = c};
          epoll_ctl(ep, EPOLL_CTL_ADD, c, &ce);
        }
      } else if (serve(fd) < 0) {
        close_conn(ep, fd);
      }
    }
  }
}

int main(void) {
  const char *host = getenv("HOST") ? getenv("HOST") : "127.0.0.1";
  int port = getenv("PORT") ? atoi(getenv("PORT")) : 8080;
  int nproc = getenv("NPROC") ? atoi(getenv("NPROC")) : 2;
  const char *body = "Hello, world!";
  ka_len = snprintf(ka_resp, sizeof ka_resp,
                    "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nX-Handoff-Worker: reference/0/%d\r\n"
                    "Content-Length: %zu\r\n\r\n%s", 10000 + getpid() % 90000, strlen(body), body);
  close_len = snprintf(close_resp, sizeof close_resp,
                       "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nX-Handoff-Worker: reference/0/%d\r\n"
                       "Content-Length: %zu\r\nConnection: close\r\n\r\n%s", 10000 + getpid() % 90000, strlen(body), body);
  signal(SIGPIPE, SIG_IGN);
  sigset_t set; sigemptyset(&set); sigaddset(&set, SIGTERM); sigaddset(&set, SIGINT);
  sigprocmask(SIG_BLOCK, &set, NULL);
  pid_t kids[64]; int nk = 0;
  for (int i = 0; i < nproc && i < 64; i++) {
    pid_t p = fork();
    if (p == 0) {
      sigprocmask(SIG_UNBLOCK, &set, NULL);
      prctl(PR_SET_PDEATHSIG, SIGTERM);
      if (getppid() == 1) _exit(0);
      run(host, port);
      _exit(0);
    }
    if (p > 0) kids[nk++] = p;
  }
  int sig; sigwait(&set, &sig);
  for (int i = 0; i < nk; i++) kill(kids[i], SIGTERM);
  while (wait(NULL) > 0) {}
  return 0;
}
