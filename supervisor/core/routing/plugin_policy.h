// The `plugin` rule: an affinity plugin (protocols/affinity.h), a shared library the host
// opens (shared_library.h) and this rule drives through its C ABI.
#pragma once

#include <memory>
#include <string>

#include "supervisor/core/routing/dispatch_policy.h"

namespace handoff {

// Loads config.plugin_path with `load_library`, checks its ABI version and symbols, and
// creates its context with config.plugin_config. Null and `error` (naming the library) on
// any failure.
std::unique_ptr<DispatchPolicy> make_plugin_policy(const RuleConfig& config, const LibraryLoader& load_library,
                                                   std::string& error);

}  // namespace handoff
