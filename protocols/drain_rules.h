// How a worker drains, in numbers: the rules of both SDKs' drain machines
// (worker-sdk/cpp/src/drain_machine.h, worker-sdk/node/drain.js) use them. Their one home:
// the C++ SDK takes them from here, and the master sends them in `welcome` (`drain`), from
// which the Node SDK takes them. drain.js keeps the same values only as the fallback for a
// worker that has no welcome (standalone, or a signal before it) or a master that sends
// none; tests/fixtures/drain-scenarios.json names them, and both SDKs' tests check them.
#pragma once

#include <cstdint>

namespace handoff {

struct DrainRules {
  std::int64_t deadline_margin_ms = 100;      // exit at most this much before the master's kill...
  std::int64_t deadline_margin_divisor = 10;  // ...and at most this fraction of its timeout
  std::int64_t idle_grace_ms = 100;           // an idle keep-alive connection closes after this
  bool operator==(const DrainRules&) const = default;
};

}  // namespace handoff
