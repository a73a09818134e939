// An accepted client connection while the master holds it: from accept until the
// worker's ACK. Destroying it closes the master's copy of the socket.
#pragma once

#include <uv.h>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>

#include "protocols/ipc_messages.h"
#include "supervisor/edge/client_socket.h"

namespace handoff {

struct Connection {
  ClientSocket socket;
  std::uint64_t id = 0;
  std::array<std::byte, 16> address{};  // 4 bytes for IPv4 (also when IPv4-mapped), 16 for IPv6
  std::size_t address_length = 0;
  std::string address_text;
  int port = 0;
  std::string listener;       // the listener's name
  // The name goes into a `conn` line without escaping (its Listener checked it once); the
  // address text always does (digits, dots, colons and hex, however it was made).
  bool listener_plain = false;
  // For the hand-off latency histogram: when the master took it. Read from the clock when
  // first needed (classified, or dispatched at once), which is right after the accept.
  std::chrono::steady_clock::time_point accepted_at{};
  // Bytes of the connection the master no longer has in the kernel (a worker handed the
  // socket back after reading them): they go to the next worker in `conn.head`.
  std::string carried;
  // A worker gave it back (`handback`): routed again from its listener, its PROXY header
  // long consumed. With nothing carried, a draining worker gave it up idle (see asked_nothing).
  bool handed_back = false;
  // The classifier saw the client send something since the master got the socket (a
  // request head, or the start of one): it asked, and a rejection answers it.
  bool asked = false;
  // The output cache holds other requests for its first request's key until the worker
  // answers this one (`conn.fill`); that request's Host and target name the key.
  bool fill = false;
  std::string fill_host, fill_target;

  std::span<const std::byte> address_bytes() const { return {address.data(), address_length}; }

  // One is made and freed for every connection the master accepts: freed ones are kept
  // for the next (malloc and free cost about 150 instructions a pair on the hand-off path;
  // callgrind, bench/handoff-cost.sh). Not under AddressSanitizer, which must see each.
  static void* operator new(std::size_t size);
  static void operator delete(void* memory, std::size_t size) noexcept;
};

using ConnectionPtr = std::unique_ptr<Connection>;

// The `conn` of the NODE_HANDLE line that carries this connection to a worker (views of
// its fields: ipc::encode_conn writes the line without copying them).
ipc::ConnView conn_of(const Connection& connection);

// Fills the address fields from the peer's address (accept4's); false if not IPv4 or IPv6.
bool set_peer(Connection& connection, const sockaddr& peer);
// The same from the socket's peer (getpeername). Returns false if the peer is gone.
bool read_peer_address(Connection& connection);
// Fills them from an address in text ("10.0.0.7", "::1"); false if it does not parse.
bool set_peer_address(Connection& connection, const std::string& text, int port);

// The reason phrase of an HTTP status the master answers with: 404 → "Not Found".
std::string_view reason_phrase(int status);

// Rejections counted by status (handoff_connections_rejected_total): an app's, or a
// listener's for those no app is known for.
using RejectionCounts = std::map<int, std::uint64_t>;

// The one way the master answers a connection nobody can serve itself: a short HTTP error
// (503 also says Retry-After), counted once in `counts`, then closed once the client has
// had the chance to read it. A socket a draining worker handed back idle whose client has
// asked nothing since (nothing carried, not `asked`, nothing in the kernel; where the
// platform cannot peek, nothing carried) is closed without a word and not counted, like
// any idle keep-alive connection: an error status would answer no request.
void reject(ConnectionPtr connection, int status, RejectionCounts& counts);

}  // namespace handoff
