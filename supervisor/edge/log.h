// The supervisor's log: one line per lifecycle event and per line a worker writes, each
// with its timestamp, in logfmt or JSON (supervisor/core/log_record.h has the format).
// Every line goes to stderr, to `log_file` when one is set (edge/log_file.h), and to the
// followers of `supervisor logs --follow` (edge/log_follow.h).
#pragma once

#include <string>
#include <string_view>

#include "supervisor/core/config.h"
#include "supervisor/core/log_record.h"

namespace handoff {

void set_log_format(LogFormat format);
LogFormat log_format();
// Opens `log_file` (again when its settings changed; closes it when it is gone). An
// error text when it cannot be opened: the log goes on on stderr.
std::string set_log_file(const LogFileConfig& config);
// SIGUSR1: close the file and open its path again (after logrotate renamed it).
void reopen_log_file();
const LogFileConfig& log_file_config();

void log_event(std::string_view event, const LogFields& fields = {});

// Free text that is not a lifecycle event: event=notice msg="..."
void log_line(std::string_view message);

// One line a worker wrote.
void log_output(const OutputSource& source, std::string_view line);

// Who else reads each line as it is written (the followers of `supervisor logs --follow`).
// `app` is the line's app, empty for the master's own events. A reader must not log.
class LogReader {
 public:
  virtual void on_log_line(std::string_view app, std::string_view line_with_newline) = 0;

 protected:
  ~LogReader() = default;
};
void add_log_reader(LogReader* reader);
void remove_log_reader(LogReader* reader);

}  // namespace handoff
