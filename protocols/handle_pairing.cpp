#include "protocols/handle_pairing.h"

namespace handoff::ipc {
namespace {

// memchr per line: reads are short (a line or two), where std::count's byte loop cost
// several times more (callgrind, the hand-off path).
std::size_t count_lines(std::string_view bytes) {
  std::size_t n = 0;
  for (auto at = bytes.find('\n'); at != std::string_view::npos; at = bytes.find('\n', at + 1)) ++n;
  return n;
}

}  // namespace

std::optional<std::string> HandlePairing::begin_read(std::string_view bytes, std::size_t handles) {
  line_ = 0;
  if (handles == 0 && !unfinished_owns_) {
    // The common read (an ACK, stats): no line of it owns a descriptor, whatever their
    // number, and counting them is most of the cost of a small read.
    lines_ = 0;
    first_owns_ = last_owns_ = false;
    return std::nullopt;
  }
  lines_ = count_lines(bytes);
  first_owns_ = unfinished_owns_ && lines_ > 0;
  last_owns_ = false;
  const bool still_unfinished_owned = unfinished_owns_ && lines_ == 0;
  if (handles > 1) return std::to_string(handles) + " descriptors in one message";
  if (handles == 0) {
    unfinished_owns_ = still_unfinished_owned;
    return std::nullopt;
  }
  const bool ends_a_line = !bytes.empty() && bytes.back() == '\n';
  if (ends_a_line ? (first_owns_ && lines_ == 1) : still_unfinished_owned) {
    // Its line is one that already has a descriptor.
    unfinished_owns_ = still_unfinished_owned;
    return std::string("two descriptors with one message");
  }
  if (ends_a_line) {
    last_owns_ = true;
    unfinished_owns_ = false;
  } else {
    unfinished_owns_ = true;
  }
  return std::nullopt;
}

bool HandlePairing::line_owns_handle() {
  const std::size_t i = line_++;
  if (i >= lines_) return false;
  return (i == 0 && first_owns_) || (last_owns_ && i + 1 == lines_);
}

}  // namespace handoff::ipc
