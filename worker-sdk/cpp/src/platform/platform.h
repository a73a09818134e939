// The few things libuv does not abstract. One file per job under posix/ and win/.
#pragma once

namespace handoff::platform {

// A write to a socket the peer has closed must fail with EPIPE, not kill the process
// with SIGPIPE (libuv leaves the disposition alone; Node ignores SIGPIPE the same way).
void ignore_sigpipe();

// Gives the allocator's free memory back to the OS. After thousands of idle connections
// have closed, their memory is free but stays resident: glibc returns heap memory only
// from the top of the heap, and one long-lived block allocated late pins everything below.
void release_free_memory();

}  // namespace handoff::platform
