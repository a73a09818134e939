// The configuration schema: one table per section that reads the YAML, produces every
// error message (with file, line, column and field), and generates the reference in
// docs/config.md. Nothing about a key is written anywhere else.
#pragma once

#include <string>

#include <yaml-cpp/yaml.h>

#include "supervisor/core/config.h"
#include "supervisor/core/config_error.h"
#include "supervisor/core/host_facts.h"

namespace handoff {

// Reads a parsed document into `out`. `base_dir` resolves relative paths (the config
// file's directory); `host` counts the CPUs for `workers: auto`. Problems are appended to
// `errors`; `out` is complete only if none.
void read_config(const YAML::Node& root, const std::string& file, const std::string& base_dir, const HostFacts& host,
                 Config& out, ConfigErrors& errors);

// Markdown reference of every key, generated from the same tables.
std::string config_reference_markdown();

}  // namespace handoff
