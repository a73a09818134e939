// Node's `json` IPC framing: one JSON text per line, terminated by '\n'.
//
// The framer only splits bytes into lines; it knows nothing of JSON or sockets.
// A multi-byte UTF-8 character split across reads needs no special care: 0x0A never
// occurs inside a UTF-8 sequence, so bytes are buffered until the newline arrives.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace handoff::ipc {

class LineFramer {
 public:
  // Lines longer than max_line bytes (without the '\n') are rejected: the bytes up to
  // the next newline are discarded and reported once as an oversize line, so a peer
  // cannot make us buffer without bound.
  explicit LineFramer(std::size_t max_line) : max_line_(max_line) {}

  struct Sink {
    virtual void on_line(std::string_view line) = 0;
    virtual void on_oversize(std::size_t length) = 0;
   protected:
    ~Sink() = default;
  };

  void feed(std::string_view bytes, Sink& sink);

  // Bytes of an unfinished line held back (for tests and accounting).
  std::size_t buffered() const { return partial_.size(); }
  // No line begun: the next byte starts one.
  bool idle() const { return partial_.empty() && !discarding_; }
  std::size_t max_line() const { return max_line_; }

 private:
  std::size_t max_line_;
  std::string partial_;
  bool discarding_ = false;
  std::size_t discarded_ = 0;
};

// Convenience for callers that prefer lambdas over a Sink subclass.
template <class OnLine, class OnOversize>
void feed_lines(LineFramer& framer, std::string_view bytes, OnLine&& on_line, OnOversize&& on_oversize) {
  struct Adapter final : LineFramer::Sink {
    OnLine& line;
    OnOversize& oversize;
    Adapter(OnLine& l, OnOversize& o) : line(l), oversize(o) {}
    void on_line(std::string_view l) override { line(l); }
    void on_oversize(std::size_t n) override { oversize(n); }
  } adapter{on_line, on_oversize};
  framer.feed(bytes, adapter);
}

}  // namespace handoff::ipc
