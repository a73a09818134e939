#include "uvglue/read_buffer.h"

namespace handoff {

void alloc_read_buffer(uv_handle_t*, size_t, uv_buf_t* buf) {
  // thread_local: two Workers on two threads each get their own.
  static thread_local char storage[64 * 1024];
  *buf = uv_buf_init(storage, sizeof storage);
}

}  // namespace handoff
