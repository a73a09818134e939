// One read buffer for every stream of the loop. Reads are consumed synchronously in
// the read callback (the session and the framer copy what they keep), and the loop is
// single-threaded, so a shared buffer is never read twice at once.
#pragma once

#include <uv.h>

namespace handoff {

void alloc_read_buffer(uv_handle_t* handle, size_t suggested, uv_buf_t* buf);

}  // namespace handoff
