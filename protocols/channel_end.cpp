#include "protocols/channel_end.h"

#include <utility>
#include <variant>

namespace handoff::ipc {
namespace {

// decode() reports a NODE_HANDLE whose `msg` is bad as a DecodeError; a worker still NACKs
// it (its descriptor is closed), as Node's receiver answers every NODE_HANDLE.
bool looks_like_handle(std::string_view line) { return line.find("\"NODE_HANDLE\"") != std::string_view::npos; }

}  // namespace

void ChannelEnd::feed(std::string_view bytes, std::size_t descriptors, Effects& fx, std::string_view unusable) {
  if (broken_) {
    for (std::size_t i = 0; i < descriptors; ++i) fx.close_descriptor();
    return;
  }
  if (!unusable.empty()) {
    if (role_ == Role::master) return violate(std::string(unusable), fx);
    ignore(Ignored::descriptor, unusable, fx);
  }
  // The hand-off path first: a read that begins with whole ACKs (usually the read is
  // nothing else) settles them without framing or decoding, when no line is begun and no
  // descriptor waits for one, as on_line() would.
  if (descriptors == 0 && held_ == 0 && framer_.idle() && !pairing_.unfinished_line_owns_handle()) {
    while (bytes.starts_with(names::kHandleAckWire)) {
      bytes.remove_prefix(names::kHandleAckWire.size());
      on_answer(true, fx);
      if (broken_) return;
    }
    if (bytes.empty()) return;
  }
  // A descriptor comes with the first bytes of its line: it is held now and taken by
  // that line when it is complete (protocols/handle_pairing.h).
  if (auto wrong = pairing_.begin_read(bytes, descriptors)) {
    if (role_ == Role::master) return violate(*wrong, fx);
    // Which is whose is unknown now: all are closed, and their lines are NACKed.
    for (held_ += descriptors; held_ > 0; --held_) fx.close_descriptor();
    ignore(Ignored::descriptor, *wrong, fx);
  } else {
    held_ += descriptors;
  }
  auto owns = [this] {
    if (!pairing_.line_owns_handle() || held_ == 0) return false;
    --held_;  // taken or closed by the line, whatever it turns out to be
    return true;
  };
  feed_lines(
      framer_, bytes, [&](std::string_view line) { on_line(line, owns(), fx); },
      [&](std::size_t length) { on_oversize(length, owns(), fx); });
}

void ChannelEnd::on_oversize(std::size_t length, bool owns, Effects& fx) {
  if (broken_) return;
  if (owns) {
    if (role_ == Role::master) return violate("a descriptor with a message over the size limit", fx);
    fx.close_descriptor();
  }
  ignore(Ignored::oversize, std::to_string(length), fx);
}

void ChannelEnd::on_line(std::string_view line, bool owns, Effects& fx) {
  if (broken_) return;  // a violation earlier in the read: nothing after it is believed
  auto decoded = decode(line);
  if (auto* error = std::get_if<DecodeError>(&decoded)) {
    if (owns) {
      if (role_ == Role::master) return violate("a descriptor with a malformed message (" + error->reason + ")", fx);
      fx.close_descriptor();
    }
    if (role_ == Role::worker && looks_like_handle(line)) answer(false, fx);
    return ignore(Ignored::malformed, error->reason, fx);
  }
  const auto& message = std::get<Message>(decoded);
  // The hand-off path first: the peer's answer to our handle.
  if (!owns && std::holds_alternative<HandleAck>(message)) return on_answer(true, fx);
  const bool handle_line = role_ == Role::master ? std::holds_alternative<Handback>(message)
                                                 : std::holds_alternative<Handle>(message) ||
                                                       std::holds_alternative<Listen>(message);
  if (!handle_line) {
    if (owns) {
      const std::string what = "a descriptor with a message that carries none (" + std::string(name_of(message)) + ")";
      if (role_ == Role::master) return violate(what, fx);
      fx.close_descriptor();
      ignore(Ignored::descriptor, what, fx);
    }
    if (std::holds_alternative<HandleAck>(message)) return on_answer(true, fx);
    if (std::holds_alternative<HandleNack>(message)) return on_answer(false, fx);
    if (const auto* unknown = std::get_if<Unknown>(&message)) return ignore(Ignored::unknown, unknown->what, fx);
    return fx.message(message);
  }
  if (!owns) {
    // The line came without its descriptor: the sender resends it a few times.
    if (role_ == Role::master && ++nacked_in_a_row_ > kMaxHandleResends)
      return violate("handback messages without their socket, " + std::to_string(nacked_in_a_row_) + " in a row", fx);
    return answer(false, fx);
  }
  nacked_in_a_row_ = 0;
  if (role_ == Role::master) {
    // Its descriptor was checked as it arrived (Effects::take_descriptor cannot fail
    // here): the ACK goes first, and the worker's next handback need not wait for the
    // routing of this one.
    answer(true, fx);
    fx.take_descriptor(message);
    return;
  }
  answer(fx.take_descriptor(message), fx);
}

void ChannelEnd::answer(bool acknowledged, Effects& fx) {
  fx.write_answer(acknowledged ? encode(HandleAck{}) : encode(HandleNack{}));
}

void ChannelEnd::on_answer(bool acknowledged, Effects& fx) {
  if (!handle_in_flight()) return;  // an answer to nothing we sent: ignored
  if (!acknowledged && window_ > 1)
    return violate("a NACK from a worker that takes " + std::to_string(window_) + " handles at a time", fx);
  if (!acknowledged && resends_ < kMaxHandleResends) {
    ++resends_;
    if (!line_back_) {
      resend_when_written_ = true;  // its bytes are still being written
      return;
    }
    line_back_ = false;
    return resend(fx);
  }
  settle();
  fx.handle_settled(acknowledged);
}

bool ChannelEnd::send_handle(std::string line, Effects& fx) {
  const std::uint64_t handle = begin_handle();
  if (handle == 0) return false;
  if (fx.write(std::move(line), handle)) return true;
  abandon_handle();
  return false;
}

void ChannelEnd::resend(Effects& fx) {
  resend_when_written_ = false;
  // A write that fails leaves it in flight: the channel is broken, and its loss (or the
  // answer's timeout) settles what was in flight.
  fx.write(in_flight_line_, last_handle_);
}

void ChannelEnd::settle() {
  ++answered_;
  line_back_ = false;  // its bytes are freed when the next handle's come back
  resend_when_written_ = false;
  resends_ = 0;
}

void ChannelEnd::abandon_handle() {
  settle();
  answered_ = last_handle_;
  std::string().swap(in_flight_line_);
}

void ChannelEnd::ignore(Ignored kind, std::string_view detail, Effects& fx) {
  if (role_ == Role::worker) {
    const unsigned bit = 1u << static_cast<unsigned>(kind);
    if (logged_ & bit) return;
    logged_ |= bit;
  }
  fx.ignored(kind, detail);
}

void ChannelEnd::violate(const std::string& reason, Effects& fx) {
  if (broken_) return;
  broken_ = true;
  held_ = 0;  // the adapter closes what it holds
  abandon_handle();
  fx.violation(reason);
}

}  // namespace handoff::ipc
