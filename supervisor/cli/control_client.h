// The client side of the control socket, for `supervisor reload|scale|stop`: connect,
// send one request, read one answer. libuv, so the same code speaks to a named pipe.
#pragma once

#include <chrono>
#include <string>
#include <variant>

#include "supervisor/core/control/control_protocol.h"

namespace handoff::control {

// The answer, or why there is none ("cannot connect to ...: permission denied").
std::variant<Reply, std::string> call(const std::string& socket_path, const Request& request,
                                      std::chrono::milliseconds timeout = std::chrono::milliseconds(30'000));

}  // namespace handoff::control
