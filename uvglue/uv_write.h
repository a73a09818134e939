// One write to a libuv stream that owns the bytes it writes until libuv is done with
// them: the master's short answers and, through the C++ SDK, responses and IPC lines.
//
//   auto write = std::make_unique<UvWrite>(std::move(bytes));
//   write->owner = this;                   // optional: whom `done` should reach
//   int rc = UvWrite::start(std::move(write), stream, on_written);
//
// `done` runs exactly once if start succeeded: when the bytes went out, when the write
// failed, or with an error when the stream closed with the write still queued
// (UV_ECANCELED on Unix; Windows reports what the closed handle gave, such as UV_EBADF).
// That last call comes after the stream's owner may be gone, so `done` reaches its owner only
// through `owner` (which an owner that goes first clears) or the stream's `data` (which
// UvHandle clears before closing), never through a captured pointer. The UvWrite is freed
// right after `done` returns.
#pragma once

#include <uv.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace handoff {

class UvWrite {
 public:
  using Done = void (*)(UvWrite& write, int status);

  UvWrite() = default;
  explicit UvWrite(std::string&& bytes) : first_(std::move(bytes)) {}
  UvWrite(const UvWrite&) = delete;
  UvWrite& operator=(const UvWrite&) = delete;

  // Appends bytes; all of them leave with one writev, in order. Empty pieces are skipped.
  void add(std::string bytes);
  std::size_t size() const;  // bytes held

  // The stream written to, once started (still set in `done`, also after a close).
  uv_stream_t* stream() const { return request_.handle; }

  void* owner = nullptr;
  // The owner's note on what this write is (the IPC channel: the number of the handle
  // whose line it carries, 0 for a line alone).
  std::uint64_t tag = 0;

  // The bytes of a single-piece write, back to the caller in `done` (a handle line is
  // kept for a resend). Empty afterwards.
  std::string take_bytes() { return std::move(first_); }

  // Starts the write; with `send_handle`, over an IPC pipe, that handle goes along
  // (uv_write2). On an error the write is freed here, `done` never runs, and the libuv
  // error code is returned.
  static int start(std::unique_ptr<UvWrite> write, uv_stream_t* stream, Done done,
                   uv_stream_t* send_handle = nullptr);

  // Writes what the stream takes now, without a request (uv_try_write2: no allocation,
  // no callback, no pass of the loop); with `send_handle`, the handle goes with the first
  // bytes. Returns how many bytes went: 0 when none can go now (writes are queued before
  // it, the kernel's buffer is full, or the platform cannot: a Windows pipe), or a libuv
  // error code. The caller queues what is left with start(), without the handle if any
  // byte went; after an error, all of it (the queued write then reports the error through
  // its callback, where the caller's handling of a broken stream already is).
  static int try_now(uv_stream_t* stream, std::string_view bytes, uv_stream_t* send_handle = nullptr);

 private:
  static void finished(uv_write_t* request, int status);

  uv_write_t request_{};
  Done done_ = nullptr;
  // The first piece inline: a single line (the common case: IPC messages, short
  // answers) costs no allocation beyond the UvWrite.
  std::string first_;
  std::vector<std::string> more_;
};

}  // namespace handoff
