#include "worker-sdk/cpp/src/channel_protocol.h"

#include <type_traits>
#include <utility>
#include <variant>

namespace handoff {

namespace {

// ipc::decode reports a NODE_HANDLE with a bad `msg` as a DecodeError. Its fd still
// arrived and would otherwise be claimed by the next NODE_HANDLE line, serving the
// wrong socket, so such lines are recognized here without a full JSON parse.
bool looks_like_handle(std::string_view line) {
  return line.find("\"NODE_HANDLE\"") != std::string_view::npos;
}

}  // namespace

void ChannelProtocol::feed(std::string_view bytes, Events& events) {
  ipc::feed_lines(
      framer_, bytes, [&](std::string_view line) { on_line(line, events); },
      [&](std::size_t length) {
        if (!std::exchange(logged_oversize_, true))
          events.log("ipc: ignoring an oversize message of " + std::to_string(length) + " bytes");
      });
}

void ChannelProtocol::on_line(std::string_view line, Events& events) {
  auto decoded = ipc::decode(line);
  if (auto* error = std::get_if<ipc::DecodeError>(&decoded)) {
    if (looks_like_handle(line)) {
      events.discard_handle();
      events.send(ipc::encode(ipc::HandleNack{}));
    }
    if (!std::exchange(logged_malformed_, true)) events.log("ipc: ignoring a malformed message: " + error->reason);
    return;
  }
  std::visit(
      [&](const auto& m) {
        using M = std::decay_t<decltype(m)>;
        if constexpr (std::is_same_v<M, ipc::Handle>) {
          const bool taken = events.take_handle(m.conn);
          events.send(taken ? ipc::encode(ipc::HandleAck{}) : ipc::encode(ipc::HandleNack{}));
        } else if constexpr (std::is_same_v<M, ipc::Welcome>) {
          events.welcome(m);
        } else if constexpr (std::is_same_v<M, ipc::Drain>) {
          events.drain(m);
        } else if constexpr (std::is_same_v<M, ipc::Route>) {
          events.route(m);
        } else if constexpr (std::is_same_v<M, ipc::HandleAck>) {
          events.handle_answered(true);
        } else if constexpr (std::is_same_v<M, ipc::HandleNack>) {
          events.handle_answered(false);
        } else if constexpr (std::is_same_v<M, ipc::Unknown>) {
          if (!std::exchange(logged_unknown_, true)) events.log("ipc: ignoring unknown message '" + m.what + "'");
        }
        // Hello, Ready, Stats, Handback travel the other way; ignored.
      },
      std::get<ipc::Message>(decoded));
}

std::string ChannelProtocol::hello_line(std::int64_t pid) {
  return ipc::encode(ipc::Hello{.sdk = "cpp", .version = ipc::kVersion, .pid = pid});
}

std::string ChannelProtocol::ready_line() { return ipc::encode(ipc::Ready{}); }

std::string ChannelProtocol::stats_line(const ipc::Stats& stats) { return ipc::encode(stats); }

std::string ChannelProtocol::handback_line(const ipc::Handback& handback) { return ipc::encode(handback); }

}  // namespace handoff
