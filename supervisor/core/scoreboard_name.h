// The name of a supervisor's scoreboard segment (protocols/scoreboard_segment.h).
#pragma once

#include <string>
#include <string_view>

namespace handoff {

// The segment of the supervisor serving `control_socket` (an absolute path): the same
// name for the master and for `supervisor status`, different for two supervisors.
std::string scoreboard_name(std::string_view control_socket);

}  // namespace handoff
