// The operator's subcommands of the supervisor binary: status, top, reload, restart,
// scale, stop.
// status and top read the scoreboard (so they answer while the master's loop is busy);
// the others go through the control socket. Each returns the process exit code.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "protocols/scoreboard_segment.h"

namespace handoff::commands {

// Where to find a running supervisor: its control socket, given directly or read from
// its config. An empty string and a message on stderr when neither works.
std::string locate_socket(const std::string& config_path, const std::string& socket_path);

// The scoreboard of the supervisor of `socket`, read-only; null after saying on stderr why
// not (none is running, or it is another user's), as `supervisor COMMAND`.
std::unique_ptr<scoreboard::Segment> open_scoreboard(const char* command, const std::string& socket);

int status(const std::string& socket, bool json);
int top(const std::string& socket);
// How `reload`, `restart` and `scale` wait: for the rolls they start, or the new slots to
// be ready and the removed ones gone (`wait`), at most `timeout` (0: the supervisor's
// own bound, from the apps' start_timeout and drain_timeout).
struct RollOptions {
  bool wait = true;
  std::chrono::seconds timeout{0};
};
int reload(const std::string& socket, bool config_only, RollOptions options);
int restart(const std::string& socket, const std::string& app, RollOptions options);
int scale(const std::string& socket, const std::string& app, int workers, RollOptions options);
int stop(const std::string& socket);
// `supervisor cache purge [APP] [PREFIX]`: entries of APP (every app with a cache) whose
// target starts with PREFIX (all of them).
int cache_purge(const std::string& socket, const std::string& app, const std::string& prefix);

}  // namespace handoff::commands
