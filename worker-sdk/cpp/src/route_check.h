// Whether a request on a keep-alive connection still belongs to this worker: the app's
// rule from `welcome.route`, decided exactly as the master routes (the key functions of
// protocols/route_key.h, as supervisor/core/routing/dispatch_policies.cpp takes keys). Pure.
#pragma once

#include <handoff/worker.h>

#include "protocols/ipc_messages.h"

#include <string_view>
#include <vector>

namespace handoff {

// `slot` is 1-based, `workers` the app's slot count. Without a rule (and without
// prefixes) everything stays. Ports shared by URL prefix: the longest matching prefix
// among the app's and the foreign ones must be the app's (none at all: the master would
// answer 404, so it goes back too). A key maps to a slot as in the master (a direct
// url_segment that is no slot number is no key); a request without a key stays unless
// `missing` is "handback".
bool belongs_here(const ipc::RouteCheck& route, int slot, int workers, std::string_view target,
                  const std::vector<Header>& headers);

}  // namespace handoff
