// The control socket's protocol: one JSON object per line each way, one request and one
// answer per connection.
//   {"cmd":"status"}                       -> {"ok":true,"status":{...status --json...}}
//   {"cmd":"reload"}                       -> {"ok":true,"message":"..."}
//   {"cmd":"scale","app":"web","workers":4} -> {"ok":true,"message":"..."}
//   {"cmd":"stop"}                         -> {"ok":true,"message":"..."}
//   {"cmd":"logs","app":"web","follow":true} -> {"ok":true,"log_file":"/var/log/handoff.log"}
//     then, with follow, the log's lines as they are written (only `app`'s when given),
//     until either side hangs up (edge/log_follower.h)
// A refusal or an error is {"ok":false,"error":"..."}. Pure codec.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include <nlohmann/json.hpp>

namespace handoff::control {

enum class Command { status, reload, scale, stop, logs };
std::string_view to_string(Command command);

struct Request {
  Command command = Command::status;
  std::string app;  // scale; logs: only this app's lines (empty: all)
  int workers = 0;  // scale: 1..4096
  bool follow = false;  // logs
};

struct Reply {
  bool ok = false;
  std::string message;           // or the error, when !ok
  nlohmann::ordered_json status;  // the status, for Command::status
  std::string log_file{};         // logs: the `log_file` path, empty when there is none
};

inline constexpr std::size_t kMaxLine = 64 * 1024;

std::string encode(const Request& request);  // with '\n'
std::string encode(const Reply& reply);      // with '\n'

// A line without its '\n'; a string is the reason it was refused.
std::variant<Request, std::string> decode_request(std::string_view line);
std::variant<Reply, std::string> decode_reply(std::string_view line);

}  // namespace handoff::control
