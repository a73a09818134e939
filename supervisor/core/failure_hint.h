// Why a worker may have failed, in words a user can act on. Most failures of a new app are
// one mistake: a Node app that listens on a port itself (`app.listen(3000)`) instead of
// handing its server to serve(), or one started through npm, whose own Node process keeps
// the IPC channel. Such a worker never says `hello`: it is killed at start_timeout, or its
// siblings die with EADDRINUSE. The edge (Slot) gathers the facts, the state machine decides
// when to ask, and this says what they mean. Pure.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace handoff {

// What the edge could find out about a worker that failed.
struct WorkerFacts {
  // TCP addresses on which a process of the worker's group listens itself ("[::]:3000");
  // only while it runs, and only where the platform can tell (Linux).
  std::vector<std::string> listening;
  // The first line of its output that said the address was in use, if one did.
  std::string address_in_use;
};

// Whether a line of a worker's output reports EADDRINUSE (Node, libuv, Python, Go, ...).
bool mentions_address_in_use(std::string_view line);

// The hint for the log's `hint` field; empty when the facts suggest nothing.
// `said_hello`: the worker runs an SDK.
std::string failure_hint(bool said_hello, const WorkerFacts& facts);

}  // namespace handoff
