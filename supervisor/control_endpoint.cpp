#include "supervisor/control_endpoint.h"

#include <algorithm>
#include <cstdio>

#include "supervisor/log.h"

namespace handoff {
namespace {

constexpr std::size_t kMaxCommand = 256;

struct Write {
  uv_write_t req;
  std::string text;
};

void write_line(uv_stream_t* stream, std::string text) {
  auto* w = new Write{{}, std::move(text)};
  w->text += '\n';
  uv_buf_t buf = uv_buf_init(w->text.data(), static_cast<unsigned>(w->text.size()));
  if (uv_write(&w->req, stream, &buf, 1, [](uv_write_t* req, int) { delete reinterpret_cast<Write*>(req); }) != 0)
    delete w;
}

void alloc(uv_handle_t*, size_t, uv_buf_t* buf) {
  static char buffer[1024];  // one loop thread; each read is consumed before the next
  *buf = uv_buf_init(buffer, sizeof buffer);
}

}  // namespace

ControlCommand parse_control_command(std::string_view line) {
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.remove_suffix(1);
  if (line == "reload") return ControlCommand::reload;
  if (line == "stop") return ControlCommand::stop;
  return ControlCommand::unknown;
}

struct ControlEndpoint::Client {
  ControlEndpoint& owner;
  UvHandle<uv_pipe_t> pipe;
  ipc::LineFramer framer{kMaxCommand};
  explicit Client(ControlEndpoint& o) : owner(o) {}
};

ControlEndpoint::ControlEndpoint() = default;
ControlEndpoint::~ControlEndpoint() = default;

int ControlEndpoint::open(uv_loop_t* loop, const std::string& name, OnCommand on_command) {
  name_ = name;
  on_command_ = std::move(on_command);
  server_ = UvHandle<uv_pipe_t>::make();
  if (int rc = uv_pipe_init(loop, server_.get(), 0); rc != 0) return rc;
  server_.mark_initialized();
  server_->data = this;
  if (int rc = uv_pipe_bind(server_.get(), name.c_str()); rc != 0) return rc;
  return uv_listen(server_.stream(), 8, [](uv_stream_t* s, int status) {
    if (auto* me = static_cast<ControlEndpoint*>(s->data); me && status == 0) me->accept_one();
  });
}

void ControlEndpoint::close() {
  clients_.clear();
  server_.reset();
}

void ControlEndpoint::accept_one() {
  auto client = std::make_unique<Client>(*this);
  client->pipe = UvHandle<uv_pipe_t>::make();
  uv_pipe_init(server_->loop, client->pipe.get(), 0);
  client->pipe.mark_initialized();
  if (uv_accept(server_.stream(), client->pipe.stream()) != 0) return;
  client->pipe->data = client.get();
  uv_read_start(client->pipe.stream(), alloc, [](uv_stream_t* s, ssize_t n, const uv_buf_t* buf) {
    auto* c = static_cast<Client*>(s->data);
    if (!c) return;
    ControlEndpoint& owner = c->owner;
    if (n < 0) {  // the tool hung up: forget it
      std::erase_if(owner.clients_, [c](const std::unique_ptr<Client>& x) { return x.get() == c; });
      return;
    }
    std::vector<ControlCommand> commands;
    ipc::feed_lines(
        c->framer, {buf->base, static_cast<size_t>(n)},
        [&](std::string_view line) {
          const auto command = parse_control_command(line);
          write_line(s, command == ControlCommand::unknown ? "error: unknown command (reload, stop)" : "ok");
          if (command != ControlCommand::unknown) commands.push_back(command);
        },
        [&](std::size_t) { write_line(s, "error: command too long"); });
    // Last: a command may close this endpoint (stop) and with it this client.
    for (auto command : commands) owner.on_command_(command);
  });
  clients_.push_back(std::move(client));
}

int run_control_client(const std::string& name, const std::string& command) {
  uv_loop_t loop;
  uv_loop_init(&loop);
  struct State {
    uv_pipe_t pipe;
    uv_connect_t connect;
    std::string command, answer;
    int status = 1;
  } state;
  state.command = command + "\n";
  uv_pipe_init(&loop, &state.pipe, 0);
  state.pipe.data = &state;
  uv_pipe_connect(&state.connect, &state.pipe, name.c_str(), [](uv_connect_t* req, int status) {
    auto* st = static_cast<State*>(req->handle->data);
    if (status != 0) {
      std::fprintf(stderr, "supervisor control: cannot connect: %s\n", uv_strerror(status));
      uv_close(reinterpret_cast<uv_handle_t*>(req->handle), nullptr);
      return;
    }
    write_line(req->handle, st->command.substr(0, st->command.size() - 1));
    uv_read_start(req->handle, alloc, [](uv_stream_t* s, ssize_t n, const uv_buf_t* buf) {
      auto* st2 = static_cast<State*>(s->data);
      if (n > 0) st2->answer.append(buf->base, static_cast<size_t>(n));
      const auto nl = st2->answer.find('\n');
      if (nl == std::string::npos && n >= 0) return;
      const std::string line = st2->answer.substr(0, nl);
      std::printf("%s\n", line.empty() ? "error: no answer" : line.c_str());
      st2->status = line == "ok" ? 0 : 1;
      uv_close(reinterpret_cast<uv_handle_t*>(s), nullptr);
    });
  });
  uv_run(&loop, UV_RUN_DEFAULT);
  uv_loop_close(&loop);
  return state.status;
}

}  // namespace handoff
