// `supervisor logs [APP] [-n N] [--follow]`: the last N lines of the supervisor's
// `log_file` (only APP's when given), then with --follow the lines as the master writes
// them, through the control socket (edge/log_follower.h), until it stops or Ctrl-C.
#pragma once

#include <string>
#include <vector>

namespace handoff::commands {

struct LogsOptions {
  std::string app;  // empty: every line
  int lines = 10;
  bool follow = false;
};

// `config_path` (when given) names the log file without asking the master; `socket` is
// the control socket (empty: none known).
int logs(const std::string& config_path, const std::string& socket, const LogsOptions& options);

// The last `n` lines of `path` whose app is `app` (every line when empty), oldest first;
// read from the end, so a long file costs no more than what is shown.
std::vector<std::string> last_log_lines(const std::string& path, std::size_t n, const std::string& app);

}  // namespace handoff::commands
