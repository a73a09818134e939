// Process environment, through libuv so it reads the same on every platform.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace handoff {

std::optional<std::string> get_env(const char* name);
void unset_env(const char* name);
// A whole decimal int, or nothing (empty, junk, out of range).
std::optional<int> parse_int(std::string_view text);

}  // namespace handoff
