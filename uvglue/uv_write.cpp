#include "uvglue/uv_write.h"

#include <utility>

namespace handoff {

void UvWrite::add(std::string bytes) {
  if (bytes.empty()) return;
  if (first_.empty()) first_ = std::move(bytes);
  else more_.push_back(std::move(bytes));
}

std::size_t UvWrite::size() const {
  std::size_t n = first_.size();
  for (const auto& piece : more_) n += piece.size();
  return n;
}

int UvWrite::start(std::unique_ptr<UvWrite> write, uv_stream_t* stream, Done done, uv_stream_t* send_handle) {
  write->done_ = done;
  write->request_.data = write.get();
  // libuv copies the uv_buf_t array into the request; only the bytes must stay.
  if (write->more_.empty()) {
    // One piece (an IPC line, a short answer): the hand-off path, kept short.
    uv_buf_t one = uv_buf_init(write->first_.data(), static_cast<unsigned>(write->first_.size()));
    const int rc = send_handle ? uv_write2(&write->request_, stream, &one, 1, send_handle, finished)
                               : uv_write(&write->request_, stream, &one, 1, finished);
    if (rc == 0) (void)write.release();  // libuv holds it until finished()
    return rc;
  }
  constexpr std::size_t kOnStack = 8;
  const std::size_t count = (write->first_.empty() ? 0 : 1) + write->more_.size();
  uv_buf_t on_stack[kOnStack];
  std::vector<uv_buf_t> on_heap;
  uv_buf_t* bufs = on_stack;
  if (count > kOnStack) {
    on_heap.resize(count);
    bufs = on_heap.data();
  }
  std::size_t n = 0;
  auto add = [&](std::string& s) { bufs[n++] = uv_buf_init(s.data(), static_cast<unsigned>(s.size())); };
  if (!write->first_.empty()) add(write->first_);
  for (auto& piece : write->more_) add(piece);
  const auto nbufs = static_cast<unsigned>(n);
  const int rc = send_handle ? uv_write2(&write->request_, stream, bufs, nbufs, send_handle, finished)
                             : uv_write(&write->request_, stream, bufs, nbufs, finished);
  if (rc == 0) (void)write.release();  // libuv holds it until finished()
  return rc;
}

int UvWrite::try_now(uv_stream_t* stream, std::string_view bytes, uv_stream_t* send_handle) {
  uv_buf_t one = uv_buf_init(const_cast<char*>(bytes.data()), static_cast<unsigned>(bytes.size()));
  const int n = uv_try_write2(stream, &one, 1, send_handle);
  return n == UV_EAGAIN ? 0 : n;
}

void UvWrite::finished(uv_write_t* request, int status) {
  std::unique_ptr<UvWrite> write(static_cast<UvWrite*>(request->data));
  if (write->done_) write->done_(*write, status);
}

}  // namespace handoff
