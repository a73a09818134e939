// uvglue's UvWrite on a real loop and a real pipe: the bytes arrive whole and in
// order, `done` runs once (also when a close cancels the write), a handle goes along over
// an IPC pipe.
#include <doctest/doctest.h>

#include <memory>
#include <string>
#include <vector>

#include "uvglue/uv_handle.h"
#include "uvglue/uv_write.h"

using handoff::UvHandle;
using handoff::UvWrite;

namespace {

struct Pair {
  uv_loop_t loop{};
  UvHandle<uv_pipe_t> writer, reader;
  std::string received;
  char buffer[64 * 1024];

  // A pipe (an anonymous one, which every platform opens as a uv_pipe_t) or, for IPC
  // (Unix only), a socket pair.
  explicit Pair(int ipc = 0) {
    uv_loop_init(&loop);
    uv_file fds[2];
#ifndef _WIN32
    if (ipc) {
      uv_os_sock_t socks[2];
      REQUIRE(uv_socketpair(SOCK_STREAM, 0, socks, 0, 0) == 0);
      fds[0] = socks[1];
      fds[1] = socks[0];
    } else
#endif
      REQUIRE(uv_pipe(fds, 0, 0) == 0);  // fds[0] reads, fds[1] writes
    open(reader, fds[0], ipc);
    open(writer, fds[1], ipc);
  }
  ~Pair() {
    writer.reset();
    reader.reset();
    uv_run(&loop, UV_RUN_DEFAULT);
    CHECK(uv_loop_close(&loop) == 0);
  }
  void open(UvHandle<uv_pipe_t>& pipe, uv_file fd, int ipc) {
    pipe = UvHandle<uv_pipe_t>::make();
    REQUIRE(uv_pipe_init(&loop, pipe.get(), ipc) == 0);
    pipe.mark_initialized();
    REQUIRE(uv_pipe_open(pipe.get(), fd) == 0);
  }
  // Reads until `n` bytes came.
  void read(std::size_t n) {
    struct Want {
      Pair* pair;
      std::size_t n;
    } want{this, n};
    reader->data = &want;
    uv_read_start(
        reader.stream(),
        [](uv_handle_t* h, size_t, uv_buf_t* buf) {
          auto* p = static_cast<Want*>(h->data)->pair;
          *buf = uv_buf_init(p->buffer, sizeof p->buffer);
        },
        [](uv_stream_t* s, ssize_t got, const uv_buf_t* buf) {
          auto* w = static_cast<Want*>(s->data);
          if (got > 0) w->pair->received.append(buf->base, static_cast<std::size_t>(got));
          if (got < 0 || w->pair->received.size() >= w->n) uv_read_stop(s);
        });
    uv_run(&loop, UV_RUN_DEFAULT);
  }
};

struct Seen {
  int calls = 0;
  int status = 1;
  uv_stream_t* stream = nullptr;
};

void record(UvWrite& write, int status) {
  auto* seen = static_cast<Seen*>(write.owner);
  ++seen->calls;
  seen->status = status;
  seen->stream = write.stream();
}

}  // namespace

TEST_CASE("UvWrite: the pieces arrive whole and in order, done runs once with 0") {
  Pair p;
  Seen seen;
  auto write = std::make_unique<UvWrite>(std::string("first "));
  write->add("");  // skipped
  for (int i = 0; i < 12; ++i) write->add("piece" + std::to_string(i) + " ");  // past 8: bufs on the heap
  const std::size_t size = write->size();
  CHECK(size == 6 + 12 * 7 + 2);
  write->owner = &seen;
  REQUIRE(UvWrite::start(std::move(write), p.writer.stream(), record) == 0);
  p.read(size);
  CHECK(seen.calls == 1);
  CHECK(seen.status == 0);
  CHECK(seen.stream == p.writer.stream());
  CHECK(p.received.rfind("first piece0 piece1 ", 0) == 0);
  CHECK(p.received.size() == size);
  CHECK(p.received.substr(size - 8) == "piece11 ");
}

TEST_CASE("UvWrite: a write the stream's close cancels calls done once, with an error") {
  Pair p;
  Seen seen;
  // More than the socket buffers take: the write stays queued, nobody reads.
  auto write = std::make_unique<UvWrite>(std::string(32 * 1024 * 1024, 'x'));
  write->owner = &seen;
  REQUIRE(UvWrite::start(std::move(write), p.writer.stream(), record) == 0);
  uv_run(&p.loop, UV_RUN_NOWAIT);
  CHECK(seen.calls == 0);
  p.writer.reset();
  uv_run(&p.loop, UV_RUN_DEFAULT);
  CHECK(seen.calls == 1);
#ifdef _WIN32
  CHECK(seen.status < 0);  // what the closed handle gave (UV_EBADF under wine)
#else
  CHECK(seen.status == UV_ECANCELED);
#endif
}

TEST_CASE("UvWrite: a start that fails returns the error and never calls done") {
  uv_loop_t loop{};
  uv_loop_init(&loop);
  {
    auto tcp = UvHandle<uv_tcp_t>::make();
    REQUIRE(uv_tcp_init(&loop, tcp.get()) == 0);
    tcp.mark_initialized();
    Seen seen;
    auto write = std::make_unique<UvWrite>(std::string("nobody to send to"));
    write->owner = &seen;
    CHECK(UvWrite::start(std::move(write), tcp.stream(), record) < 0);  // no socket yet (EBADF here)
    uv_run(&loop, UV_RUN_NOWAIT);
    CHECK(seen.calls == 0);
  }
  uv_run(&loop, UV_RUN_DEFAULT);
  CHECK(uv_loop_close(&loop) == 0);
}

#ifndef _WIN32
TEST_CASE("UvWrite: over an IPC pipe a handle goes along (uv_write2)") {
  Pair p(1);
  Seen seen;
  auto tcp = UvHandle<uv_tcp_t>::make();
  REQUIRE(uv_tcp_init(&p.loop, tcp.get()) == 0);
  tcp.mark_initialized();
  sockaddr_in any{};
  REQUIRE(uv_ip4_addr("127.0.0.1", 0, &any) == 0);
  REQUIRE(uv_tcp_bind(tcp.get(), reinterpret_cast<const sockaddr*>(&any), 0) == 0);  // now it has a socket
  auto write = std::make_unique<UvWrite>(std::string("with a handle\n"));
  write->owner = &seen;
  REQUIRE(UvWrite::start(std::move(write), p.writer.stream(), record, tcp.stream()) == 0);
  p.read(14);
  CHECK(seen.calls == 1);
  CHECK(seen.status == 0);
  CHECK(p.received == "with a handle\n");
  CHECK(uv_pipe_pending_count(p.reader.get()) == 1);
  CHECK(uv_pipe_pending_type(p.reader.get()) == UV_TCP);
  auto got = UvHandle<uv_tcp_t>::make();
  REQUIRE(uv_tcp_init(&p.loop, got.get()) == 0);
  got.mark_initialized();
  CHECK(uv_accept(p.reader.stream(), got.stream()) == 0);  // the fd, received and owned
}
#endif
