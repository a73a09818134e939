// A uv_write_t that owns the bytes it writes, freed by its callback.
//
// Only channel.cpp still uses this; everything else writes through uvglue/uv_write.h
// (UvWrite), and the channel moves there too once its rewrite (issue 17) lands, when this
// file goes.
//
// Write callbacks also run (with UV_ECANCELED) when the stream is closed with writes
// queued, after the stream's owner may be gone: callbacks therefore reach their owner
// only through handle->data, which UvHandle clears before closing.
#pragma once

#include "worker-sdk/cpp/src/response_writer.h"

#include <uv.h>

#include <string>
#include <vector>

namespace handoff {

struct WriteRequest {
  uv_write_t req{};
  std::string head;                          // a single buffer (IPC lines)
  std::vector<SerializedResponse> responses;  // or responses: head + body each

  static WriteRequest* from(uv_write_t* r) { return static_cast<WriteRequest*>(r->data); }

  // Writes everything held with one writev. Returns a libuv error code; on error the
  // callback will not run and the caller still owns the request.
  int write(uv_stream_t* stream, uv_write_cb cb) {
    std::vector<uv_buf_t> bufs;
    bufs.reserve(1 + 2 * responses.size());
    add(bufs, head);
    for (auto& r : responses) {
      add(bufs, r.head);
      add(bufs, r.body);
    }
    // libuv copies the uv_buf_t array itself; the bytes must live until the callback.
    req.data = this;
    return uv_write(&req, stream, bufs.data(), static_cast<unsigned>(bufs.size()), cb);
  }

 private:
  static void add(std::vector<uv_buf_t>& bufs, std::string& s) {
    if (!s.empty()) bufs.push_back(uv_buf_init(s.data(), static_cast<unsigned>(s.size())));
  }
};

}  // namespace handoff
