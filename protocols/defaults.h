// Defaults more than one process must agree on: the master's config (supervisor/core/
// config.h, whose schema documents them from the same values), the C++ SDK when it runs
// standalone (handoff/worker.h) and its listener. One home each; the Node SDK takes the
// HTTP settings from `welcome` and keeps Node's own defaults standalone.
#pragma once

#include <cstdint>

namespace handoff::defaults {

// The kernel's accept queue of a listening socket (nginx's and Node's default too).
inline constexpr int kBacklog = 511;

// The workers' HTTP servers: the app's `http:` section, sent in `welcome`.
inline constexpr std::uint32_t kKeepAliveTimeoutMs = 5'000;
inline constexpr std::uint32_t kHeadersTimeoutMs = 60'000;
inline constexpr std::uint32_t kRequestTimeoutMs = 300'000;
inline constexpr std::uint64_t kMaxRequestsPerSocket = 0;  // no limit
inline constexpr std::uint64_t kMaxHeaderSize = 64 * 1024;
inline constexpr std::uint64_t kMaxBodySize = 16 * 1024 * 1024;

}  // namespace handoff::defaults
