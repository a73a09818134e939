// A client's TCP socket while the master holds it. It starts as a plain descriptor
// (accepted with accept4 on POSIX) and becomes a libuv handle only when the master must
// read or write it itself (a rejection, a head read on Windows, a queued hand-off line):
// the common path (accept, peek, send to a worker, close on its ACK) then costs no handle
// set-up, no epoll_ctl on close and no close callback (docs/benchmarks.md, callgrind).
// On Windows connections arrive as handles (libuv's uv_accept) and stay so.
#pragma once

#include <uv.h>

#include <cstdint>

#include "uvglue/uv_handle.h"

namespace handoff {

class ClientSocket {
 public:
  ClientSocket() = default;
  ClientSocket(uv_loop_t* loop, std::intptr_t descriptor) : loop_(loop), descriptor_(descriptor) {}
  explicit ClientSocket(UvHandle<uv_tcp_t> handle);
  ClientSocket(ClientSocket&& other) noexcept;
  ClientSocket& operator=(ClientSocket&& other) noexcept;
  ClientSocket(const ClientSocket&) = delete;
  ClientSocket& operator=(const ClientSocket&) = delete;
  ~ClientSocket() { reset(); }

  explicit operator bool() const { return descriptor_ >= 0; }
  uv_os_sock_t descriptor() const { return static_cast<uv_os_sock_t>(descriptor_); }
  bool has_handle() const { return static_cast<bool>(handle_); }
  // The libuv handle, made on first use (it owns the descriptor from then on); null if
  // libuv cannot adopt the descriptor (it stays ours, and is closed with this).
  uv_tcp_t* handle();
  uv_stream_t* stream() { return reinterpret_cast<uv_stream_t*>(handle()); }
  void reset();

 private:
  uv_loop_t* loop_ = nullptr;
  std::intptr_t descriptor_ = -1;
  UvHandle<uv_tcp_t> handle_;
};

}  // namespace handoff
