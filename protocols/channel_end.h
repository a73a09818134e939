// One end of the IPC channel, without the pipe: the same protocol object for the master's
// end (WorkerProcess) and a C++ worker's (the SDK's Channel), in opposite roles.
//
// Receiving: bytes are framed into lines (LineFramer), each descriptor a read brought is
// paired with its line (HandlePairing), lines are decoded, and a handle line (a worker's
// `handback` at the master, the master's `conn` at a worker) is answered with ACK when
// its descriptor came with it and NACK when it did not. Sending: one handle in flight at
// a time, or the peer's window; the peer's NACK makes the same line and descriptor go
// again, at most kMaxHandleResends times, after which the handle is reported refused.
//
// Descriptors stay the adapter's: it takes every descriptor a read brought before
// feeding the read's bytes (oldest first), and this class says which line takes the
// oldest held one and when one must be closed. For sending, the adapter holds the
// descriptor of the handle in flight; this class says when to write its line with it.
//
// The roles differ in whom they trust. The master's end (Role::master) is strict: a
// worker that breaks the rules (descriptors without their line, several in one read, one
// with a line that carries none, a malformed or oversize line with one, handback lines
// without their socket again and again) is reported once as a violation, and nothing it
// sends afterwards is read. A worker's end (Role::worker) trusts the master and is Node's
// receiver: what does not fit is closed and logged, and a handle line without its
// descriptor is NACKed (the master resends it).
//
// Pure: no libuv, no I/O; unit-tested with two ends wired to each other in memory.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "protocols/handle_pairing.h"
#include "protocols/ipc_messages.h"
#include "protocols/line_framer.h"

namespace handoff::ipc {

enum class Role { master, worker };

class ChannelEnd {
 public:
  // What was dropped (Effects::ignored): a line, or (worker role) a descriptor that broke
  // the pairing rule or could not be taken.
  enum class Ignored { malformed, oversize, unknown, descriptor };

  struct Effects {
    // Writes one line. `handle` 0: a line alone; otherwise the line of the handle in
    // flight, with its held descriptor (uv_write2), and the bytes come back through
    // ChannelEnd::written(handle, line) once written, for a resend. False when it cannot
    // be written (the channel is broken: its loss is reported by the read side).
    virtual bool write(std::string line, std::uint64_t handle) = 0;
    // Our ACK or NACK of a handle line the peer sent: a line alone, which an adapter may
    // hold back to write several in one (the C++ SDK, to the end of its loop's pass).
    virtual void write_answer(std::string line) { write(std::move(line), 0); }
    // A decoded message that is not about handles (ACK/NACK of ours are consumed here).
    virtual void message(const Message& message) = 0;
    // A handle line came with its descriptor: take the oldest held one for `message`
    // (master: a Handback, worker: a Handle). False when it cannot be used: NACKed (the
    // worker role; the master's adapter checks descriptors as they arrive, reporting
    // `unusable` to feed(), and its ACK goes before the take).
    virtual bool take_descriptor(const Message& message) = 0;
    // The oldest held descriptor belongs to nothing that takes it: close it.
    virtual void close_descriptor() = 0;
    // Our handle in flight is settled: taken (ACK), or refused (NACKed once more after
    // kMaxHandleResends resends). Its held descriptor is the adapter's again.
    virtual void handle_settled(bool taken) = 0;
    // Master role: the peer broke the protocol. Reported once; the adapter closes what
    // it holds and stops reading. `reason` completes "broke the channel protocol: ".
    virtual void violation(const std::string& reason) = 0;
    // Something dropped: `detail` is the decoder's reason (malformed), the line's length
    // (oversize), the message's name (unknown), why (descriptor). The worker role reports
    // each kind once, so a chatty peer cannot flood its log.
    virtual void ignored(Ignored kind, std::string_view detail) = 0;

   protected:
    ~Effects() = default;
  };

  explicit ChannelEnd(Role role, std::size_t max_line = kDefaultMaxMessageBytes) : role_(role), framer_(max_line) {}

  // ---- receiving ----

  // A read of `bytes` that brought `descriptors` (all taken by the adapter, oldest
  // first). `unusable`: why one of them could not be taken (the adapter closed it and
  // does not count it): a violation at the master's end, logged at a worker's.
  void feed(std::string_view bytes, std::size_t descriptors, Effects& fx, std::string_view unusable = {});

  // ---- sending ----

  // How many handles may be in flight at once: the peer's `hello` window (1 until then,
  // and always for Node's receiver). With more than one, answers come in the order the
  // handles went and none is resent (a resend would reorder them): a NACK then breaks the
  // protocol (master role), and the adapter's handles in flight go to the next worker.
  void set_window(int window) { window_ = window < 1 ? 1u : static_cast<unsigned>(window); }

  // A handle may go: its number (the adapter writes its line with the descriptor it
  // holds, as Effects::write would, and calls abandon_handle() if that fails), or 0 when
  // the window is full (the caller keeps it and sends it after one settles).
  // Inline, as written(): the hand-off path pays no more than its bookkeeping.
  std::uint64_t begin_handle() {
    if (handles_in_flight() >= window_ || broken_) return 0;
    return ++last_handle_;
  }
  // The same through the Effects (for tests and adapters without a fast path).
  bool send_handle(std::string line, Effects& fx);
  // The write of the handle line `handle` completed: its bytes, kept for a resend (a
  // window of 1 only).
  void written(std::uint64_t handle, std::string_view line, Effects& fx) {
    // Settled meanwhile, or not the one a NACK could ask for again: the bytes go.
    if (window_ != 1 || handle != last_handle_ || handles_in_flight() == 0) return;
    in_flight_line_.assign(line);  // (into the capacity the previous one left)
    if (resend_when_written_) return resend(fx);
    line_back_ = true;
  }
  // The handle begin_handle() numbered last could not be written: it is not in flight.
  void cancel_handle() {
    if (handle_in_flight()) --last_handle_;
  }
  // The peer is gone: the handles in flight get no answer (the caller keeps them).
  void abandon_handle();
  // Handles sent and not answered yet, oldest first: the next answer settles the oldest.
  std::size_t handles_in_flight() const { return static_cast<std::size_t>(last_handle_ - answered_); }
  bool handle_in_flight() const { return handles_in_flight() != 0; }

  bool broken() const { return broken_; }
  std::size_t max_line() const { return framer_.max_line(); }

 private:
  void on_line(std::string_view line, bool owns, Effects& fx);
  void on_oversize(std::size_t length, bool owns, Effects& fx);
  void on_answer(bool acknowledged, Effects& fx);
  void settle();
  void resend(Effects& fx);  // in_flight_line_
  void answer(bool acknowledged, Effects& fx);
  void ignore(Ignored kind, std::string_view detail, Effects& fx);
  void violate(const std::string& reason, Effects& fx);

  const Role role_;
  LineFramer framer_;
  HandlePairing pairing_;
  std::size_t held_ = 0;  // descriptors the adapter holds for lines not yet complete
  bool broken_ = false;   // master role: after a violation nothing more is read
  int nacked_in_a_row_ = 0;  // master role: handle lines that came without their descriptor

  unsigned window_ = 1;
  std::uint64_t last_handle_ = 0;  // numbers the handles sent, from 1
  std::uint64_t answered_ = 0;     // the handles up to this one are settled (answers are in order)
  std::string in_flight_line_;     // window 1: the bytes of the handle in flight, back from the write
  bool line_back_ = false;         // in_flight_line_ holds them
  bool resend_when_written_ = false;  // NACKed before its write completed
  int resends_ = 0;

  unsigned logged_ = 0;  // worker role: the Ignored kinds reported already (bits)
};

}  // namespace handoff::ipc
