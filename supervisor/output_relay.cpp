#include "supervisor/output_relay.h"

namespace handoff {

void LinePrefixer::emit(std::string_view line) {
  std::string out = prefix_;
  out.append(line);
  out.push_back('\n');
  std::fwrite(out.data(), 1, out.size(), out_);
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
    while (partial_.size() >= kMaxLine) {
      emit(std::string_view(partial_).substr(0, kMaxLine));
      partial_.erase(0, kMaxLine);
    }
  }
  std::fflush(out_);
}

void LinePrefixer::flush() {
  if (!partial_.empty()) emit(partial_);
  partial_.clear();
  std::fflush(out_);
}

}  // namespace handoff
