#include "supervisor/cli/control_client.h"

#include <uv.h>

#include "uvglue/timer.h"
#include "uvglue/uv_handle.h"

#include "supervisor/platform/service.h"

namespace handoff::control {
namespace {

// An answer line longer than this (status of thousands of slots is far less) is no answer of ours.
constexpr std::size_t kMaxAnswer = 64 * 1024 * 1024;

struct Exchange {
  uv_loop_t loop{};
  UvHandle<uv_pipe_t> pipe;
  Timer timer;
  uv_connect_t connect{};
  uv_write_t write{};
  std::string request;
  std::string pending;  // bytes not yet a whole line
  std::string error;
  const std::function<bool(std::string_view)>* on_line = nullptr;
  bool lines = false;  // a whole line came
  bool done = false;
  char buffer[64 * 1024];

  void finish(std::string why = {}) {
    if (done) return;
    done = true;
    if (!why.empty()) error = std::move(why);
    pipe.reset();
    timer.reset();
  }

  void read(std::string_view bytes) {
    pending.append(bytes);
    std::size_t start = 0;
    for (auto nl = pending.find('\n'); nl != std::string::npos && !done; nl = pending.find('\n', start)) {
      lines = true;
      timer.reset();  // the answer came: what follows may take its time
      if (!(*on_line)(std::string_view(pending).substr(start, nl - start))) finish();
      start = nl + 1;
    }
    pending.erase(0, start);
    if (!done && pending.size() > kMaxAnswer) finish("the answer is too long");
  }
};

}  // namespace

std::string exchange(const std::string& socket_path, const Request& request,
                     const std::function<bool(std::string_view line)>& on_line,
                     std::optional<std::chrono::milliseconds> timeout) {
  Exchange x;
  uv_loop_init(&x.loop);
  x.request = encode(request);
  x.on_line = &on_line;
  x.pipe = UvHandle<uv_pipe_t>::make();
  uv_pipe_init(&x.loop, x.pipe.get(), 0);
  x.pipe.mark_initialized();
  x.pipe->data = &x;
  if (timeout) {
    x.timer = Timer(&x.loop);
    x.timer.start<[](Exchange& me) { me.finish("no answer from the supervisor in time"); }>(
        &x, static_cast<std::uint64_t>(timeout->count()));
  }
  x.connect.data = &x;
  uv_pipe_connect(&x.connect, x.pipe.get(), platform::local_endpoint(socket_path).c_str(), [](uv_connect_t* req, int status) {
    auto* me = static_cast<Exchange*>(req->data);
    if (me->done) return;
    if (status != 0) return me->finish(std::string("cannot connect: ") + uv_strerror(status));
    uv_buf_t line = uv_buf_init(me->request.data(), static_cast<unsigned>(me->request.size()));
    me->write.data = me;
    uv_write(&me->write, me->pipe.stream(), &line, 1, [](uv_write_t* w, int rc) {
      auto* ex = static_cast<Exchange*>(w->data);
      if (rc != 0 && !ex->done) ex->finish(std::string("cannot send: ") + uv_strerror(rc));
    });
    uv_read_start(
        me->pipe.stream(),
        [](uv_handle_t* h, size_t, uv_buf_t* buf) {
          auto* ex = static_cast<Exchange*>(h->data);
          *buf = uv_buf_init(ex->buffer, sizeof ex->buffer);
        },
        [](uv_stream_t* s, ssize_t n, const uv_buf_t* buf) {
          auto* ex = static_cast<Exchange*>(s->data);
          if (!ex || ex->done) return;
          if (n < 0) {
            if (!ex->lines) return ex->finish("the supervisor closed the connection without an answer");
            return ex->finish(ex->pending.empty() ? "" : "the answer was cut short");
          }
          ex->read({buf->base, static_cast<std::size_t>(n)});
        });
  });
  uv_run(&x.loop, UV_RUN_DEFAULT);
  uv_loop_close(&x.loop);
  return x.error;
}

std::variant<Reply, std::string> call(const std::string& socket_path, const Request& request,
                                      std::chrono::milliseconds timeout) {
  std::string answer;
  const std::function<bool(std::string_view)> first = [&](std::string_view line) {
    answer = line;
    return false;
  };
  if (auto error = exchange(socket_path, request, first, timeout); !error.empty()) return error;
  auto decoded = decode_reply(answer);
  if (auto* why = std::get_if<std::string>(&decoded)) return *why;
  return std::get<Reply>(decoded);
}

}  // namespace handoff::control
