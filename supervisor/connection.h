// An accepted client connection while the master holds it: from accept until the
// worker's ACK. Destroying it closes the master's copy of the socket.
#pragma once

#include <uv.h>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include <handoff/uv_handle.h>

namespace handoff {

struct Connection {
  UvHandle<uv_tcp_t> socket;
  std::uint64_t id = 0;
  std::array<std::byte, 16> address{};  // 4 bytes for IPv4 (also when IPv4-mapped), 16 for IPv6
  std::size_t address_length = 0;
  std::string address_text;
  int port = 0;
  std::string listener;       // the listener's name
  std::chrono::steady_clock::time_point accepted_at{};  // for the hand-off latency histogram
  std::chrono::steady_clock::time_point queued_at{};  // when it entered a slot's queue

  std::span<const std::byte> address_bytes() const { return {address.data(), address_length}; }
};

using ConnectionPtr = std::unique_ptr<Connection>;

// Fills the address fields from the socket's peer. Returns false if the peer is gone.
bool read_peer_address(Connection& connection);

// Answers a connection nobody can serve with a short HTTP error and closes it, e.g.
// "503 Service Unavailable". The connection is released once the bytes are written.
void reject(ConnectionPtr connection, std::string_view status);

}  // namespace handoff
