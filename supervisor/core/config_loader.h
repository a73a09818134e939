// Loads and checks a config file. Two stages, both before anything starts:
//  - load_config: the file, its YAML and the schema (pure apart from reading the file and
//    counting the CPUs for `workers: auto`);
//  - check_environment: what the file asks of the machine (commands exist, cwd exists,
//    users exist, plugins load, the workers' argv and environment fit what the OS lets a
//    process start with).
// The machine's answers come from `host` (host_facts.h).
// Binding the listeners is the last check and happens in the supervisor itself.
#pragma once

#include <string>
#include <variant>

#include "supervisor/core/config.h"
#include "supervisor/core/config_error.h"
#include "supervisor/core/host_facts.h"

namespace handoff {

std::variant<Config, ConfigErrors> load_config(const std::string& path, const HostFacts& host);

// Parses YAML text as if it came from `file` (relative paths resolve against base_dir).
std::variant<Config, ConfigErrors> parse_config(const std::string& text, const std::string& file,
                                                const std::string& base_dir, const HostFacts& host);

ConfigErrors check_environment(Config& config, const HostFacts& host);

}  // namespace handoff
