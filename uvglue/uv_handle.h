// RAII ownership of libuv handles, shared by the worker SDK and the supervisor.
//
// A libuv handle may only be freed after its close callback ran, so the owner cannot
// simply delete it. UvHandle<T> allocates the handle, and on destruction (or reset)
// closes it and frees the memory from the close callback. Anything the handle's
// callbacks reach through `data` must outlive the close: owners clear `data` first.
#pragma once

#include <uv.h>

#include <utility>

namespace handoff {

template <class T>
class UvHandle {
 public:
  UvHandle() = default;
  static UvHandle make() {
    UvHandle h;
    h.handle_ = new T{};
    return h;
  }
  UvHandle(UvHandle&& other) noexcept
      : handle_(std::exchange(other.handle_, nullptr)), initialized_(std::exchange(other.initialized_, false)) {}
  UvHandle& operator=(UvHandle&& other) noexcept {
    if (this != &other) {
      reset();
      handle_ = std::exchange(other.handle_, nullptr);
      initialized_ = std::exchange(other.initialized_, false);
    }
    return *this;
  }
  UvHandle(const UvHandle&) = delete;
  UvHandle& operator=(const UvHandle&) = delete;
  ~UvHandle() { reset(); }

  T* get() const { return handle_; }
  T* operator->() const { return handle_; }
  explicit operator bool() const { return handle_ != nullptr; }
  uv_handle_t* base() const { return reinterpret_cast<uv_handle_t*>(handle_); }
  uv_stream_t* stream() const { return reinterpret_cast<uv_stream_t*>(handle_); }

  // Call after a successful uv_*_init: from then on the handle must be closed through
  // libuv. Before that it is plain memory and is simply deleted.
  void mark_initialized() { initialized_ = true; }

  void reset() {
    if (!handle_) return;
    T* h = std::exchange(handle_, nullptr);
    auto* base = reinterpret_cast<uv_handle_t*>(h);
    if (!initialized_) {
      delete h;
      return;
    }
    initialized_ = false;
    base->data = nullptr;
    if (uv_is_closing(base)) return;  // someone else closes it; leaked only if they forget
    uv_close(base, [](uv_handle_t* closed) { delete reinterpret_cast<T*>(closed); });
  }

 private:
  T* handle_ = nullptr;
  bool initialized_ = false;
};

}  // namespace handoff
