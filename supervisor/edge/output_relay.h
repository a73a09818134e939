// Copies a worker's stdout or stderr into the supervisor's log, one line at a time, as
// event=output lines tagged with app, slot, pid and stream (core/log_record.h), in the same
// log as the lifecycle events. Lines are bounded: a longer run of bytes without newline is cut into pieces
// of kMaxLine, so a worker cannot make the master buffer without limit.
#pragma once

#include <functional>
#include <string>
#include <string_view>

namespace handoff {

class LinePrefixer {
 public:
  static constexpr std::size_t kMaxLine = 16 * 1024;
  // `tap` sees each line as it is logged (the slot looks for clues to a failure in them).
  using Tap = std::function<void(std::string_view line)>;
  LinePrefixer(std::string app, int slot, std::string_view stream, Tap tap = {})
      : app_(std::move(app)), slot_(slot), stream_(stream), tap_(std::move(tap)) {}

  void set_pid(int pid) { pid_ = pid; }
  void feed(std::string_view bytes);
  void flush();  // at EOF: writes an unfinished last line

 private:
  void emit(std::string_view line);
  std::string app_;
  int slot_;
  std::string_view stream_;  // "stdout" or "stderr"
  Tap tap_;
  int pid_ = 0;
  std::string partial_;
};

}  // namespace handoff
