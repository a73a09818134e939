// What the supervisor needs from the operating system beyond libuv. One implementation
// per platform: platform/posix/*.cpp and platform/win/*.cpp, chosen by CMake.
#pragma once

#include <optional>
#include <string>

namespace handoff::platform {

// The absolute path of an executable: a name with a directory separator is taken
// relative to cwd; a bare name is looked up in PATH (and PATHEXT on Windows).
std::optional<std::string> find_executable(const std::string& program, const std::string& cwd);

// Number of descriptors (handles) this process has open, for leak checks and status.
int open_descriptor_count();

}  // namespace handoff::platform
