// Splits a command string into argv without a shell: words separated by spaces or tabs,
// '...' and "..." group words (quotes removed), a backslash escapes the next character
// outside single quotes. No variables, globs or redirections: use a list in the config,
// or `["sh", "-c", "..."]`, for those.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace handoff {

// nullopt when a quote is left open.
std::optional<std::vector<std::string>> split_command_line(std::string_view text);

}  // namespace handoff
