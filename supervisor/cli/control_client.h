// The client side of the control socket, for `supervisor reload|scale|stop|logs`:
// connect, send one request, read the answer line (and, for `logs --follow`, the lines
// that follow it). libuv, so the same code speaks to a named pipe.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "supervisor/core/control/control_protocol.h"

namespace handoff::control {

// The answer, or why there is none ("cannot connect to ...: permission denied").
std::variant<Reply, std::string> call(const std::string& socket_path, const Request& request,
                                      std::chrono::milliseconds timeout = std::chrono::milliseconds(30'000));

// Sends `request` and gives `on_line` each line the supervisor writes back (the answer
// first), until it returns false or the supervisor closes the connection. Returns why it
// ended early (cannot connect, closed before a whole line, no first line within
// `timeout`), or an empty string.
std::string exchange(const std::string& socket_path, const Request& request,
                     const std::function<bool(std::string_view line)>& on_line,
                     std::optional<std::chrono::milliseconds> timeout = std::nullopt);

}  // namespace handoff::control
