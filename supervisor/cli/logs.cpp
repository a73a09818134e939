#include "supervisor/cli/logs.h"

#include <uv.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <set>
#include <variant>

#include "supervisor/cli/commands.h"
#include "supervisor/cli/control_client.h"
#include "supervisor/core/config_loader.h"
#include "supervisor/core/log_record.h"
#include "supervisor/core/log_tail.h"
#include "supervisor/edge/real_host.h"
#include "supervisor/platform/service.h"
#include "uvglue/uv_handle.h"

namespace handoff::commands {
namespace {

constexpr int kFailed = 1;
constexpr int kUsage = 2;

bool wanted(std::string_view line, const std::string& app) { return app.empty() || app_of_log_line(line) == app; }

void print(const std::vector<std::string>& lines) {
  for (const auto& l : lines) {
    std::fwrite(l.data(), 1, l.size(), stdout);
    std::fputc('\n', stdout);
  }
  std::fflush(stdout);
}

// The follow stream: the master's answer line, then log lines until it closes.
struct Follow {
  const LogsOptions* options = nullptr;
  std::string log_file;  // from the config, or the master's answer
  UvHandle<uv_pipe_t> pipe;
  uv_connect_t connect{};
  uv_write_t write{};
  std::string request;
  std::string pending;   // bytes not yet a whole line
  bool answered = false;
  std::set<std::string> shown;  // tail lines the stream may repeat (written before we read the file)
  std::string error;
  bool ended = false;
  char buffer[64 * 1024];

  void finish(std::string why = {}) {
    if (!why.empty() && error.empty()) error = std::move(why);
    ended = true;
    pipe.reset();
  }

  void on_line(std::string_view line) {
    if (!answered) {
      answered = true;
      auto reply = control::decode_reply(line);
      if (auto* why = std::get_if<std::string>(&reply)) return finish(*why);
      const auto& r = std::get<control::Reply>(reply);
      if (!r.ok) return finish(r.message);
      if (log_file.empty()) log_file = r.log_file;
      // Subscribed first, then the file: a line written in between comes both ways, and
      // the stream's copy is skipped; none is missed.
      if (!log_file.empty() && options->lines > 0) {
        auto tail = last_log_lines(log_file, static_cast<std::size_t>(options->lines), options->app);
        shown.insert(tail.begin(), tail.end());
        print(tail);
      }
      return;
    }
    if (!shown.empty()) {
      if (shown.erase(std::string(line))) return;
      shown.clear();
    }
    std::fwrite(line.data(), 1, line.size(), stdout);
    std::fputc('\n', stdout);
  }
};

int follow(const std::string& socket, const std::string& log_file, const LogsOptions& options) {
  uv_loop_t loop;
  uv_loop_init(&loop);
  Follow stream;
  stream.options = &options;
  stream.log_file = log_file;
  stream.request = control::encode(control::Request{.command = control::Command::logs, .app = options.app, .follow = true});
  stream.pipe = UvHandle<uv_pipe_t>::make();
  uv_pipe_init(&loop, stream.pipe.get(), 0);
  stream.pipe.mark_initialized();
  stream.pipe->data = &stream;
  stream.connect.data = &stream;
  uv_pipe_connect(&stream.connect, stream.pipe.get(), platform::local_endpoint(socket).c_str(), [](uv_connect_t* req, int status) {
    auto* me = static_cast<Follow*>(req->data);
    if (me->ended) return;
    if (status != 0) return me->finish(std::string("cannot connect: ") + uv_strerror(status));
    uv_buf_t line = uv_buf_init(me->request.data(), static_cast<unsigned>(me->request.size()));
    me->write.data = me;
    uv_write(&me->write, me->pipe.stream(), &line, 1, [](uv_write_t* w, int rc) {
      auto* f = static_cast<Follow*>(w->data);
      if (rc != 0 && !f->ended) f->finish(std::string("cannot send: ") + uv_strerror(rc));
    });
    uv_read_start(
        me->pipe.stream(),
        [](uv_handle_t* h, size_t, uv_buf_t* buf) {
          auto* f = static_cast<Follow*>(h->data);
          *buf = uv_buf_init(f->buffer, sizeof f->buffer);
        },
        [](uv_stream_t* s, ssize_t n, const uv_buf_t* buf) {
          auto* f = static_cast<Follow*>(s->data);
          if (!f || f->ended) return;
          if (n < 0) {
            if (!f->answered) return f->finish("the supervisor closed the connection without an answer");
            std::fflush(stdout);
            std::fprintf(stderr, "supervisor logs: the supervisor closed the stream (it stopped)\n");
            return f->finish();
          }
          f->pending.append(buf->base, static_cast<std::size_t>(n));
          std::size_t start = 0;
          for (auto nl = f->pending.find('\n'); nl != std::string::npos && !f->ended; nl = f->pending.find('\n', start)) {
            f->on_line(std::string_view(f->pending).substr(start, nl - start));
            start = nl + 1;
          }
          f->pending.erase(0, start);
          std::fflush(stdout);
        });
  });
  uv_run(&loop, UV_RUN_DEFAULT);
  uv_loop_close(&loop);
  if (!stream.error.empty()) {
    std::fprintf(stderr, "supervisor logs: %s: %s\n", socket.c_str(), stream.error.c_str());
    return kFailed;
  }
  return 0;
}

}  // namespace

std::vector<std::string> last_log_lines(const std::string& path, std::size_t n, const std::string& app) {
  std::ifstream in(path, std::ios::binary);
  if (!in || n == 0) return {};
  in.seekg(0, std::ios::end);
  const auto size = static_cast<std::uint64_t>(in.tellg());
  return last_lines(
      size,
      [&](std::uint64_t offset, std::size_t bytes) {
        std::string piece(bytes, '\0');
        in.seekg(static_cast<std::streamoff>(offset));
        in.read(piece.data(), static_cast<std::streamsize>(bytes));
        piece.resize(static_cast<std::size_t>(std::max<std::streamsize>(0, in.gcount())));
        return piece;
      },
      n, [&](std::string_view line) { return wanted(line, app); });
}

int logs(const std::string& config_path, const std::string& socket_path, const LogsOptions& options) {
  std::string log_file;
  std::string socket = socket_path.empty() ? std::string() : locate_socket({}, socket_path);
  if (!config_path.empty()) {
    auto loaded = load_config(config_path, real_host());
    if (auto* errors = std::get_if<ConfigErrors>(&loaded)) {
      for (const auto& e : *errors) std::fprintf(stderr, "%s\n", e.to_string().c_str());
      return kUsage;
    }
    const auto& config = std::get<Config>(loaded);
    log_file = config.log_file.path;
    if (socket.empty()) socket = config.control_socket;
  }
  if (socket.empty() && log_file.empty()) {
    locate_socket({}, {});  // says what to give
    return kUsage;
  }
  if (options.follow) return follow(socket, log_file, options);
  if (log_file.empty()) {
    // Only the master knows (no config given): ask it.
    auto answer = control::call(socket, {control::Command::logs, options.app, 0, false});
    if (auto* why = std::get_if<std::string>(&answer)) {
      std::fprintf(stderr, "supervisor logs: %s: %s\n", socket.c_str(), why->c_str());
      return kFailed;
    }
    log_file = std::get<control::Reply>(answer).log_file;
  }
  if (log_file.empty()) {
    std::fprintf(stderr,
                 "supervisor logs: this supervisor has no log_file (its log is on its stderr); --follow streams "
                 "it from now on\n");
    return kFailed;
  }
  if (!std::ifstream(log_file)) {
    std::fprintf(stderr, "supervisor logs: cannot read %s\n", log_file.c_str());
    return kFailed;
  }
  print(last_log_lines(log_file, static_cast<std::size_t>(std::max(0, options.lines)), options.app));
  return 0;
}

}  // namespace handoff::commands
