// Which line of the IPC channel a received descriptor belongs to, and when a peer broke
// the rule.
//
// libuv's uv_write2 (Node's, and both our sides') sends a descriptor as one SCM_RIGHTS
// message on the first bytes of the line it goes with. Linux's recvmsg on a stream socket
// stops right after the data that carried descriptors, so within one read the
// descriptor's line is the last to begin: the line that ends exactly where the read ends,
// or the unfinished line the read leaves behind (to be completed by later reads).
// A peer breaks the rule when a read carries several descriptors (one message, one
// handle), or a descriptor arrives while the unfinished line already has one.
//
// Pure: the caller frames the bytes, holds the descriptors (oldest first) and asks, for
// each line the read completes, whether the oldest held descriptor is that line's.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace handoff::ipc {

class HandlePairing {
 public:
  // Before framing a read of `bytes` that brought `handles` descriptors. A reason when
  // the peer broke the rule; the read's lines may still be framed, and own nothing new.
  std::optional<std::string> begin_read(std::string_view bytes, std::size_t handles);

  // For each line the read completes (an oversize line counts), in order: whether the
  // oldest held descriptor came with it.
  bool line_owns_handle();

  // A descriptor held for the line that is still unfinished.
  bool unfinished_line_owns_handle() const { return unfinished_owns_; }

 private:
  std::size_t lines_ = 0;     // lines the current read completes
  std::size_t line_ = 0;      // the next of them
  bool first_owns_ = false;   // the first is the unfinished line of an earlier read, with its handle
  bool last_owns_ = false;    // the last ends where the read ends, with the read's handle
  bool unfinished_owns_ = false;
};

}  // namespace handoff::ipc
