#include "supervisor/edge/output_relay.h"

#include "supervisor/edge/log.h"

namespace handoff {

void LinePrefixer::emit(std::string_view line) {
  log_output({app_, slot_, pid_, stream_}, line);
  if (tap_) tap_(line);
}

void LinePrefixer::feed(std::string_view bytes) {
  while (!bytes.empty()) {
    const auto newline = bytes.find('\n');
    const auto chunk = bytes.substr(0, newline);
    if (newline == std::string_view::npos) {
      partial_.append(chunk);
      bytes = {};
    } else {
      if (partial_.empty()) {
        emit(chunk);
      } else {
        partial_.append(chunk);
        emit(partial_);
        partial_.clear();
      }
      bytes.remove_prefix(newline + 1);
    }
    if (partial_.size() >= kMaxLine) {
      std::size_t done = 0;
      for (; partial_.size() - done >= kMaxLine; done += kMaxLine) emit(std::string_view(partial_).substr(done, kMaxLine));
      partial_.erase(0, done);
    }
  }
}

void LinePrefixer::flush() {
  if (!partial_.empty()) emit(partial_);
  partial_.clear();
}

}  // namespace handoff
