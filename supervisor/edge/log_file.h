// The optional `log_file:` copy of the supervisor's log, rotated by size: when a line
// would take the file past `max_size` it is closed and renamed PATH -> PATH.1 (PATH.1 ->
// PATH.2 ... up to PATH.<keep>, the oldest dropped) and a new PATH is opened. reopen()
// closes and opens PATH again, for external rotation (logrotate renames the file, then
// sends SIGUSR1). Plain C stdio: the same code on every OS. A failed write is counted,
// never fatal: the log on stderr goes on.
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>

#include "supervisor/core/config.h"

namespace handoff {

class LogFile {
 public:
  // An error text ("cannot open PATH: ...") when PATH cannot be opened for appending.
  std::string open(const LogFileConfig& config);
  void close();
  std::string reopen();
  void write(std::string_view line_with_newline);

  bool is_open() const { return file_ != nullptr; }
  const LogFileConfig& config() const { return config_; }
  std::uint64_t failed_writes() const { return failed_writes_; }

 private:
  void rotate();
  struct Closer {
    void operator()(std::FILE* f) const { std::fclose(f); }
  };
  LogFileConfig config_;
  std::unique_ptr<std::FILE, Closer> file_;
  std::uint64_t size_ = 0;
  std::uint64_t failed_writes_ = 0;
};

}  // namespace handoff
