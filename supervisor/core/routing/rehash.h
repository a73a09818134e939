// on_unavailable: rehash. The slot that takes a down slot's connections: the next ready
// one after it in slot order, so the same key always moves to the same place. One rule for
// both dispatches: the Dispatcher routes by it, and under kernel dispatch the ip_hash
// program is made with the down slot's buckets pointing at that slot's socket.
#pragma once

#include <cstddef>
#include <optional>

namespace handoff {

// `ready(i)`: whether slot index i (0-based) may take connections.
template <class Ready>
std::optional<std::size_t> rehash_target(std::size_t home, std::size_t slots, Ready&& ready) {
  for (std::size_t step = 1; step < slots; ++step) {
    const std::size_t candidate = (home + step) % slots;
    if (ready(candidate)) return candidate;
  }
  return std::nullopt;
}

}  // namespace handoff
