// The few things libuv does not abstract. One file per job under posix/ and win/.
#pragma once

namespace handoff::platform {

// A write to a socket the peer has closed must fail with EPIPE, not kill the process
// with SIGPIPE (libuv leaves the disposition alone; Node ignores SIGPIPE the same way).
void ignore_sigpipe();

}  // namespace handoff::platform
