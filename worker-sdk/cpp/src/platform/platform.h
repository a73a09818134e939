// The few things libuv does not abstract. One file per job under posix/ and win/.
#pragma once

#include <uv.h>

namespace handoff::platform {

// A write to a socket the peer has closed must fail with EPIPE, not kill the process
// with SIGPIPE (libuv leaves the disposition alone; Node ignores SIGPIPE the same way).
void ignore_sigpipe();

// Gives the allocator's free memory back to the OS. After thousands of idle connections
// have closed, their memory is free but stays resident: glibc returns heap memory only
// from the top of the heap, and one long-lived block allocated late pins everything below.
void release_free_memory();

// Sends FIN now (shutdown for writing) on a socket whose written bytes have all gone to the
// kernel. libuv's uv_shutdown waits for the socket to be writable first: an epoll_ctl and a
// wake-up of the loop per connection for nothing. False where it cannot (Windows: libuv's
// own shutdown then).
bool shutdown_now(const uv_tcp_t* tcp);

}  // namespace handoff::platform
