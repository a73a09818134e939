// Copies a worker's stdout or stderr to ours, one line at a time, each prefixed with
// "[app/slot] ". Lines are bounded: a longer run of bytes without newline is cut into
// pieces of kMaxLine, so a worker cannot make the master buffer without limit.
#pragma once

#include <cstdio>
#include <string>
#include <string_view>

namespace handoff {

class LinePrefixer {
 public:
  static constexpr std::size_t kMaxLine = 16 * 1024;
  LinePrefixer(std::string prefix, std::FILE* out) : prefix_(std::move(prefix)), out_(out) {}

  void feed(std::string_view bytes);
  void flush();  // at EOF: writes an unfinished last line

 private:
  void emit(std::string_view line);
  std::string prefix_;
  std::FILE* out_;
  std::string partial_;
};

}  // namespace handoff
