#include "supervisor/core/descriptor_budget.h"

namespace handoff {
namespace {

// stdio, the loop's own (epoll, signal pipe, async), the control socket and an admin
// client or two, the scoreboard, the worker guard's pipe: generously.
constexpr std::uint64_t kMasterOwn = 64;
constexpr std::uint64_t kPerWorker = 3;          // channel, stdout, stderr
constexpr std::uint64_t kWorkersPerSlot = 2;     // current and its replacement

}  // namespace

std::uint64_t descriptors_needed(const Config& config) {
  std::uint64_t n = kMasterOwn;
  for (const auto& l : config.listeners) n += 1 + l.max_classifying;
  for (const auto& a : config.apps) n += static_cast<std::uint64_t>(a.workers) * (1 + kPerWorker * kWorkersPerSlot);
  return n;
}

}  // namespace handoff
