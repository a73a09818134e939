// `supervisor top`: the status table redrawn every second, with requests per second
// measured between two frames, in any terminal (plain ANSI: home, clear). Keys: q or
// Ctrl-C quits. Reads the scoreboard only; libuv for the tty, timer and signal.
#include <uv.h>

#include <chrono>
#include <cstdio>
#include <map>

#include "uvglue/timer.h"
#include "uvglue/uv_handle.h"

#include "protocols/scoreboard_segment.h"
#include "protocols/unix_time.h"
#include "supervisor/cli/commands.h"
#include "supervisor/edge/scoreboard_host.h"
#include "supervisor/core/observe/status_view.h"
#include "supervisor/platform/service.h"

namespace handoff::commands {
namespace {

constexpr std::uint64_t kFrameMs = 1000;

struct Top {
  std::unique_ptr<scoreboard::Segment> segment;
  std::string socket;
  uv_loop_t loop{};
  Timer timer;
  UvHandle<uv_signal_t> sigint;
  UvHandle<uv_tty_t> tty;
  UvHandle<uv_pipe_t> pipe;
  bool raw = false;
  int exit_code = 0;
  struct Seen {
    std::uint32_t generation;
    std::uint64_t requests;
    std::chrono::steady_clock::time_point at;
  };
  std::map<std::uint32_t, Seen> seen;  // by record index
  char buffer[256];

  uv_stream_t* input() const { return tty ? tty.stream() : pipe.stream(); }

  void frame() {
    const auto& header = *segment->header();
    const auto pid = header.master_pid.load();
    if (!platform::process_alive(pid)) {
      std::printf("\nthe supervisor (pid %lld) is gone\n", static_cast<long long>(pid));
      exit_code = 1;
      return quit();
    }
    const auto now = std::chrono::steady_clock::now();
    const auto now_ms = unix_ms();
    StatusInput in = read_status(header, now_ms);
    std::vector<double> rates;
    for (const auto& s : in.slots) {
      double rate = 0;
      if (auto it = seen.find(s.index); it != seen.end() && it->second.generation == s.generation) {
        const double dt = std::chrono::duration<double>(now - it->second.at).count();
        if (dt > 0 && s.requests >= it->second.requests) rate = static_cast<double>(s.requests - it->second.requests) / dt;
      } else {
        rate = s.requests_per_second;  // the master's figure until we have two frames
      }
      seen[s.index] = {s.generation, s.requests, now};
      rates.push_back(rate);
    }
    std::string out = "\x1b[H\x1b[2J";
    out += "handoff top  supervisor pid " + std::to_string(pid) + ", up " +
           format_uptime(now_ms - in.master_started_ms) + "  " + socket + "   (q quits)\r\n\r\n";
    for (char c : status_table(in, &rates)) {
      if (c == '\n') out += '\r';  // raw mode: no newline translation
      out += c;
    }
    std::fwrite(out.data(), 1, out.size(), stdout);
    std::fflush(stdout);
  }

  void quit() {
    timer.reset();
    sigint.reset();
    if (raw) uv_tty_reset_mode();
    raw = false;
    tty.reset();
    pipe.reset();
  }
};

}  // namespace

int top(const std::string& socket) {
  if (socket.empty()) return 2;
  Top t;
  t.socket = socket;
  t.segment = open_scoreboard("top", socket);
  if (!t.segment) return 1;
  uv_loop_init(&t.loop);

  // Keys: from the terminal in raw mode, or from whatever stdin is (a pipe in tests).
  if (uv_guess_handle(0) == UV_TTY) {
    t.tty = UvHandle<uv_tty_t>::make();
    uv_tty_init(&t.loop, t.tty.get(), 0, 1);
    t.tty.mark_initialized();
    t.raw = uv_tty_set_mode(t.tty.get(), UV_TTY_MODE_RAW) == 0;
  } else if (uv_guess_handle(0) == UV_NAMED_PIPE) {
    t.pipe = UvHandle<uv_pipe_t>::make();
    uv_pipe_init(&t.loop, t.pipe.get(), 0);
    t.pipe.mark_initialized();
    uv_pipe_open(t.pipe.get(), 0);
  }
  if (t.tty || t.pipe) {
    t.input()->data = &t;
    uv_read_start(
        t.input(),
        [](uv_handle_t* h, size_t, uv_buf_t* buf) {
          auto* me = static_cast<Top*>(h->data);
          *buf = uv_buf_init(me->buffer, sizeof me->buffer);
        },
        [](uv_stream_t* s, ssize_t n, const uv_buf_t* buf) {
          auto* me = static_cast<Top*>(s->data);
          if (!me) return;
          if (n < 0) {  // no more keys (stdin closed): Ctrl-C still quits
            uv_read_stop(s);
            return;
          }
          for (ssize_t i = 0; i < n; ++i)
            if (buf->base[i] == 'q' || buf->base[i] == 'Q' || buf->base[i] == 3) return me->quit();
        });
  }
  t.sigint = UvHandle<uv_signal_t>::make();
  uv_signal_init(&t.loop, t.sigint.get());
  t.sigint.mark_initialized();
  t.sigint->data = &t;
  uv_signal_start(
      t.sigint.get(),
      [](uv_signal_t* s, int) {
        if (auto* me = static_cast<Top*>(s->data)) me->quit();
      },
      SIGINT);
  t.timer = Timer(&t.loop);
  t.timer.start<&Top::frame>(&t, 0, kFrameMs);
  uv_run(&t.loop, UV_RUN_DEFAULT);
  t.quit();
  uv_run(&t.loop, UV_RUN_DEFAULT);
  uv_loop_close(&t.loop);
  std::printf("\n");
  return t.exit_code;
}

}  // namespace handoff::commands
