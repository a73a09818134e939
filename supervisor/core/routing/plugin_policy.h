// The `plugin` rule: an affinity plugin (protocols/affinity.h) loaded with uv_dlopen.
#pragma once

#include <memory>
#include <string>

#include "supervisor/core/routing/dispatch_policy.h"

namespace handoff {

// Loads config.plugin_path, checks its ABI version and symbols, and creates its context
// with config.plugin_config. Null and `error` (naming the library) on any failure.
std::unique_ptr<DispatchPolicy> make_plugin_policy(const RuleConfig& config, std::string& error);

}  // namespace handoff
