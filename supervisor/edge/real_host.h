// The real machine's answers to the core's questions (core/host_facts.h): platform/ for
// the OS, libuv for the environment and shared libraries. What main.cpp, `supervisor
// check` and the master pass to the config loader and the routing rules.
#pragma once

#include "supervisor/core/host_facts.h"

namespace handoff {

const HostFacts& real_host();

// This process's environment (uv_os_environ), which workers inherit.
Environment supervisor_environment();

}  // namespace handoff
