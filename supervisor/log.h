// The supervisor's own log lines go to stderr as "[supervisor] message"; worker output
// goes to stdout/stderr as "[app/slot] line" (output_relay). Tests wait on these lines,
// so their wording is part of the interface: change them together with tests/.
#pragma once

#include <string_view>

namespace handoff {

void log_line(std::string_view message);

}  // namespace handoff
