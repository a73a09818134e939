// A libuv timer owned like any other handle (UvHandle): created on a loop, closed when
// the Timer goes.
//
// Two ways to say what runs when it fires:
//   timer.start<&Owner::on_timer>(this, ms);          a member function, or
//   timer.start<[](Owner& me) { ... }>(this, ms);     a lambda without captures.
// Either is a template argument: the callback is compiled into a static trampoline and
// `data` holds only the owner, so starting a timer allocates nothing (the per-connection
// timers use this form). `start(ms, repeat, std::function)` is for the few places where
// the callback must carry state; it allocates.
//
// The callback reaches its owner through the handle's `data`, which the close clears:
// a timer whose owner destroyed it never calls back. The callback may destroy the timer
// (and its owner) itself; in the std::function form a one-shot callback may too.
#pragma once

#include "uvglue/uv_handle.h"

#include <cstdint>
#include <functional>
#include <memory>
#include <type_traits>

namespace handoff {

class Timer {
 public:
  Timer() = default;  // no timer; assign Timer(loop) to make one
  explicit Timer(uv_loop_t* loop) : handle_(UvHandle<uv_timer_t>::make()) {
    if (uv_timer_init(loop, handle_.get()) == 0) handle_.mark_initialized();
    else handle_.reset();  // never happens in libuv today; then the Timer is empty
  }

  explicit operator bool() const { return static_cast<bool>(handle_); }
  uv_timer_t* get() const { return handle_.get(); }

  // Fires after `timeout_ms`, then every `repeat_ms` if not 0. Restarting replaces the
  // previous start.
  template <auto Callback, class Owner>
  void start(Owner* owner, std::uint64_t timeout_ms, std::uint64_t repeat_ms = 0) {
    if (!handle_) return;
    function_.reset();
    handle_->data = owner;
    uv_timer_start(handle_.get(), &trampoline<Callback, Owner>, timeout_ms, repeat_ms);
  }

  void start(std::uint64_t timeout_ms, std::uint64_t repeat_ms, std::function<void()> callback) {
    if (!handle_) return;
    function_ = std::make_unique<Function>(Function{std::move(callback), repeat_ms != 0});
    handle_->data = function_.get();
    uv_timer_start(handle_.get(), &call_function, timeout_ms, repeat_ms);
  }

  void stop() {
    if (handle_) uv_timer_stop(handle_.get());
  }
  bool active() const { return handle_ && uv_is_active(handle_.base()) != 0; }

  // Not a reason for uv_run to keep running (monitors, heartbeats).
  void unref() {
    if (handle_) uv_unref(handle_.base());
  }

  // Closes the timer now; no callback runs after this.
  void reset() {
    handle_.reset();
    function_.reset();
  }

 private:
  struct Function {
    std::function<void()> callback;
    bool repeats;
  };

  template <auto Callback, class Owner>
  static void trampoline(uv_timer_t* t) {
    if (auto* owner = static_cast<Owner*>(t->data)) std::invoke(Callback, *owner);
  }

  static void call_function(uv_timer_t* t) {
    auto* f = static_cast<Function*>(t->data);
    if (!f) return;
    if (f->repeats) return f->callback();
    // One-shot: out of the Timer first, so that the callback may destroy the Timer.
    auto callback = std::move(f->callback);
    callback();
  }

  std::unique_ptr<Function> function_;
  UvHandle<uv_timer_t> handle_;  // declared last, closed first: `data` is cleared before
                                 // the Function it may point to goes
};

}  // namespace handoff
