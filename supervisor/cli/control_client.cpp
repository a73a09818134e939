#include "supervisor/cli/control_client.h"

#include <uv.h>

#include "uvglue/timer.h"
#include "uvglue/uv_handle.h"

#include "supervisor/platform/service.h"

namespace handoff::control {
namespace {

struct Call {
  uv_loop_t loop{};
  UvHandle<uv_pipe_t> pipe;
  Timer timer;
  uv_connect_t connect{};
  uv_write_t write{};
  std::string request;
  std::string received;
  std::string error;
  bool done = false;
  char buffer[16 * 1024];

  void finish(std::string why = {}) {
    if (done) return;
    done = true;
    if (!why.empty()) error = std::move(why);
    pipe.reset();
    timer.reset();
  }
};

}  // namespace

std::variant<Reply, std::string> call(const std::string& socket_path, const Request& request,
                                      std::chrono::milliseconds timeout) {
  Call c;
  uv_loop_init(&c.loop);
  c.request = encode(request);
  c.pipe = UvHandle<uv_pipe_t>::make();
  uv_pipe_init(&c.loop, c.pipe.get(), 0);
  c.pipe.mark_initialized();
  c.pipe->data = &c;
  c.timer = Timer(&c.loop);
  c.timer.start<[](Call& me) { me.finish("no answer from the supervisor in time"); }>(
      &c, static_cast<std::uint64_t>(timeout.count()));
  c.connect.data = &c;
  uv_pipe_connect(&c.connect, c.pipe.get(), platform::local_endpoint(socket_path).c_str(), [](uv_connect_t* req, int status) {
    auto* call = static_cast<Call*>(req->data);
    if (call->done) return;
    if (status != 0) return call->finish(std::string("cannot connect: ") + uv_strerror(status));
    uv_buf_t line = uv_buf_init(call->request.data(), static_cast<unsigned>(call->request.size()));
    call->write.data = call;
    uv_write(&call->write, call->pipe.stream(), &line, 1, [](uv_write_t* w, int rc) {
      auto* me = static_cast<Call*>(w->data);
      if (rc != 0 && !me->done) me->finish(std::string("cannot send: ") + uv_strerror(rc));
    });
    uv_read_start(
        call->pipe.stream(),
        [](uv_handle_t* h, size_t, uv_buf_t* buf) {
          auto* me = static_cast<Call*>(h->data);
          *buf = uv_buf_init(me->buffer, sizeof me->buffer);
        },
        [](uv_stream_t* s, ssize_t n, const uv_buf_t* buf) {
          auto* me = static_cast<Call*>(s->data);
          if (!me || me->done) return;
          if (n < 0) {
            me->finish(me->received.empty() ? "the supervisor closed the connection without an answer"
                                            : "the answer was cut short");
            return;
          }
          me->received.append(buf->base, static_cast<std::size_t>(n));
          if (me->received.find('\n') != std::string::npos) me->finish();
          else if (me->received.size() > 64 * 1024 * 1024) me->finish("the answer is too long");
        });
  });
  uv_run(&c.loop, UV_RUN_DEFAULT);
  uv_loop_close(&c.loop);
  if (!c.error.empty()) return c.error;
  auto decoded = decode_reply(std::string_view(c.received).substr(0, c.received.find('\n')));
  if (auto* why = std::get_if<std::string>(&decoded)) return *why;
  return std::get<Reply>(decoded);
}

}  // namespace handoff::control
