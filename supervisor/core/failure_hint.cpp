#include "supervisor/core/failure_hint.h"

#include <algorithm>
#include <cctype>

namespace handoff {
namespace {

bool contains_ignoring_case(std::string_view text, std::string_view lower_needle) {
  const auto it = std::search(text.begin(), text.end(), lower_needle.begin(), lower_needle.end(), [](char a, char b) {
    return std::tolower(static_cast<unsigned char>(a)) == b;
  });
  return it != text.end();
}

constexpr std::string_view kUseServe =
    "hand the server to serve() from handoff-worker instead of calling listen(): the master owns the ports";

}  // namespace

bool mentions_address_in_use(std::string_view line) {
  // Node and libuv: "listen EADDRINUSE: address already in use :::3000"; Python: "[Errno 98]
  // Address already in use"; Go: "bind: address already in use".
  return line.find("EADDRINUSE") != std::string_view::npos || contains_ignoring_case(line, "address already in use");
}

std::string failure_hint(bool said_hello, const WorkerFacts& facts) {
  if (!facts.listening.empty()) {
    std::string addresses;
    for (const auto& a : facts.listening) addresses += (addresses.empty() ? "" : ", ") + a;
    return std::string(said_hello ? "it" : "it never said hello, and it") + " listens on " + addresses +
           " itself; " + std::string(kUseServe);
  }
  if (!facts.address_in_use.empty()) {
    constexpr std::size_t kQuoted = 160;  // enough for the address, short enough for one log line
    const std::string line = facts.address_in_use.substr(0, kQuoted);
    const std::string said = "its output says the address is in use (\"" + line + "\"): ";
    if (said_hello)
      return said + "it calls serve() and also listens on a port itself, one the master or another slot holds; " +
             "remove its listen() call: under the supervisor serve() is all it needs";
    return said + "it listens on a port itself, one the master or another slot holds; " + std::string(kUseServe);
  }
  if (said_hello) return "";
  return "it never said hello: a Node app must call serve() from handoff-worker (a program without the SDK needs "
         "`ready: on_spawn`), and be started by node itself, not through npm, npx, yarn or pnpm, whose own Node "
         "process keeps the IPC channel";
}

}  // namespace handoff
