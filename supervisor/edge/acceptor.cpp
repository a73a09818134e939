#include "supervisor/edge/acceptor.h"

#include "supervisor/platform/platform.h"

namespace handoff {
namespace {

// Connections taken in one wake-up at most: the poll is level-triggered, so what is left
// comes at the next pass of the loop, after the other handles had their turn.
constexpr int kAcceptsPerWakeup = 64;
// After an error other than "none waits" (EMFILE, ENFILE, ENOBUFS): the socket stays
// readable, so polling on would spin; the master waits this long before it tries again.
constexpr std::uint64_t kPauseAfterErrorMs = 100;

}  // namespace

int Acceptor::start(UvHandle<uv_tcp_t> socket, int backlog, OnConnection on_connection, OnError on_error) {
  on_connection_ = std::move(on_connection);
  on_error_ = std::move(on_error);
  socket_ = std::move(socket);
  socket_->data = this;
  if (!platform::can_accept_plain())
    return uv_listen(socket_.stream(), backlog, [](uv_stream_t* server, int status) {
      auto* me = static_cast<Acceptor*>(server->data);
      if (!me) return;
      if (status < 0) return me->on_error_(status);
      me->accept_with_libuv();
    });
  const uv_os_sock_t fd = platform::socket_of(socket_.get());
  if (const int rc = platform::listen_socket(fd, backlog); rc != 0) return rc;
  auto poll = UvHandle<uv_poll_t>::make();
  if (const int rc = uv_poll_init_socket(socket_->loop, poll.get(), fd); rc != 0) return rc;
  poll.mark_initialized();
  poll->data = this;
  if (const int rc = uv_poll_start(poll.get(), UV_READABLE, &Acceptor::readable); rc != 0) return rc;
  pause_ = Timer(socket_->loop);
  poll_ = std::move(poll);
  listening_ = fd;
  return 0;
}

void Acceptor::close() {
  poll_.reset();
  pause_ = Timer();
  socket_.reset();
}

void Acceptor::readable(uv_poll_t* handle, int status, int) {
  auto* me = static_cast<Acceptor*>(handle->data);
  if (!me) return;
  if (status < 0) return me->pause_after(status);
  me->accept_waiting();
}

void Acceptor::accept_waiting() {
  uv_loop_t* loop = socket_->loop;
  for (int i = 0; i < kAcceptsPerWakeup && poll_; ++i) {
    sockaddr_storage peer;
    const std::intptr_t fd = platform::accept_plain(listening_, peer);
    if (fd == UV_EAGAIN) return;
    if (fd == UV_ECONNABORTED) continue;  // the client gave up before we took it
    if (fd < 0) return pause_after(static_cast<int>(fd));
    auto connection = std::make_unique<Connection>(ClientSocket(loop, fd));
    if (!set_peer(*connection, reinterpret_cast<const sockaddr&>(peer))) continue;  // closed with it
    on_connection_(std::move(connection));  // may close() this acceptor: the loop checks poll_
  }
}

void Acceptor::accept_with_libuv() {
  auto handle = UvHandle<uv_tcp_t>::make();
  if (uv_tcp_init(socket_->loop, handle.get()) != 0) return;
  handle.mark_initialized();
  if (uv_accept(socket_.stream(), handle.stream()) != 0) return;
  auto connection = std::make_unique<Connection>();
  connection->socket = ClientSocket(std::move(handle));
  if (!read_peer_address(*connection)) return;  // reset before we looked: nothing to serve
  on_connection_(std::move(connection));
}

void Acceptor::pause_after(int uv_error) {
  on_error_(uv_error);
  if (!poll_ || !pause_) return;
  uv_poll_stop(poll_.get());
  pause_.start<[](Acceptor& me) {
    if (me.poll_) uv_poll_start(me.poll_.get(), UV_READABLE, &Acceptor::readable);
  }>(this, kPauseAfterErrorMs);
}

}  // namespace handoff
