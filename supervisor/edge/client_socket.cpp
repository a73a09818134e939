#include "supervisor/edge/client_socket.h"

#include <utility>

#include "supervisor/platform/platform.h"

namespace handoff {

ClientSocket::ClientSocket(UvHandle<uv_tcp_t> handle)
    : loop_(handle->loop), descriptor_(static_cast<std::intptr_t>(platform::socket_of(handle.get()))),
      handle_(std::move(handle)) {}

ClientSocket::ClientSocket(ClientSocket&& other) noexcept
    : loop_(other.loop_), descriptor_(std::exchange(other.descriptor_, -1)), handle_(std::move(other.handle_)) {}

ClientSocket& ClientSocket::operator=(ClientSocket&& other) noexcept {
  if (this != &other) {
    reset();
    loop_ = other.loop_;
    descriptor_ = std::exchange(other.descriptor_, -1);
    handle_ = std::move(other.handle_);
  }
  return *this;
}

uv_tcp_t* ClientSocket::handle() {
  if (handle_ || descriptor_ < 0) return handle_.get();
  auto handle = UvHandle<uv_tcp_t>::make();
  if (uv_tcp_init(loop_, handle.get()) != 0) return nullptr;
  handle.mark_initialized();
  if (uv_tcp_open(handle.get(), static_cast<uv_os_sock_t>(descriptor_)) != 0) return nullptr;
  handle_ = std::move(handle);
  return handle_.get();
}

void ClientSocket::reset() {
  if (handle_) handle_.reset();  // closes the descriptor through libuv
  else if (descriptor_ >= 0) platform::close_socket(descriptor_);
  descriptor_ = -1;
}

}  // namespace handoff
