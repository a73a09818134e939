#include "platform/platform.h"

namespace handoff::platform {

bool shutdown_now(const uv_tcp_t*) { return false; }  // libuv's uv_shutdown (its IOCP write queue)

}  // namespace handoff::platform
