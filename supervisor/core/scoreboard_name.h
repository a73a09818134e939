// The names of a supervisor's shared segments: its scoreboard (protocols/scoreboard_segment.h)
// and its apps' cache tables.
#pragma once

#include <string>
#include <string_view>

namespace handoff {

// The segment of the supervisor serving `control_socket` (an absolute path): the same
// name for the master and for `supervisor status`, different for two supervisors.
std::string scoreboard_name(std::string_view control_socket);

// The shared table of an app's output cache (protocols/cache_segment.h), beside that
// supervisor's scoreboard.
std::string cache_table_name(std::string_view scoreboard, std::string_view app);

}  // namespace handoff
