#include "protocols/line_framer.h"

namespace handoff::ipc {

void LineFramer::feed(std::string_view bytes, Sink& sink) {
  while (!bytes.empty()) {
    const auto newline = bytes.find('\n');
    const auto chunk = bytes.substr(0, newline);  // npos: the whole rest
    const bool complete = newline != std::string_view::npos;
    bytes = complete ? bytes.substr(newline + 1) : std::string_view{};

    if (discarding_) {
      discarded_ += chunk.size();
      if (complete) {
        sink.on_oversize(discarded_);
        discarding_ = false;
        discarded_ = 0;
      }
      continue;
    }
    if (partial_.size() + chunk.size() > max_line_) {
      discarding_ = true;
      discarded_ = partial_.size() + chunk.size();
      partial_.clear();
      if (complete) {
        sink.on_oversize(discarded_);
        discarding_ = false;
        discarded_ = 0;
      }
      continue;
    }
    if (!complete) {
      partial_.append(chunk);
      continue;
    }
    if (partial_.empty()) {
      sink.on_line(chunk);  // common case: a whole line inside one read, no copy
    } else {
      partial_.append(chunk);
      sink.on_line(partial_);
      partial_.clear();
    }
  }
}

}  // namespace handoff::ipc
