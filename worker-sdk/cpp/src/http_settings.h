// The master's `http` settings (the app's `http:` section of cluster.yaml, sent in
// `welcome`) applied to a worker's options. Pure: no loop, no output.
//
// Precedence: under the supervisor the config wins, because the operator sets it; a
// program's own WorkerOptions apply standalone (and until the welcome). Replacing a value
// the program chose is not silent: the caller prints the lines returned.
#pragma once

#include <handoff/worker.h>

#include "protocols/ipc_messages.h"

#include <string>
#include <vector>

namespace handoff {

// Sets the timeouts and limits of `options` from `http`. Returns one line for each value
// that the program had set to something other than the SDK's default and that `http`
// changes (for stderr; pass `program` = the options as the program gave them).
std::vector<std::string> apply_http_settings(const ipc::HttpSettings& http, const WorkerOptions& program,
                                             WorkerOptions& options);

}  // namespace handoff
