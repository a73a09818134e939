// The control socket's protocol: one JSON object per line each way, one request and one
// answer per connection.
//   {"cmd":"status"}                       -> {"ok":true,"status":{...status --json...}}
//   {"cmd":"reload"}                       -> {"ok":true,"message":"..."}
//   {"cmd":"scale","app":"web","workers":4} -> {"ok":true,"message":"..."}
//   {"cmd":"restart","app":"web"}          -> {"ok":true,"message":"..."}
// reload, restart and scale take "wait":true (the answer comes once the rolls they
// started ended, or the new slots are ready and the removed ones gone: one line per app
// in "message"; "ok":false if one failed), "timeout_ms" (how long to wait at most; the
// master's own bound otherwise) and reload "config_only":true
// (roll only the apps whose workers' config changed). Without "wait" the answer comes
// once the master took the request.
//   {"cmd":"stop"}                         -> {"ok":true,"message":"..."}
//   {"cmd":"cache_purge","app":"web","prefix":"/img/"} -> {"ok":true,"message":"web: 3 entries purged"}
//     (both optional: every app with a cache, every entry)
//   {"cmd":"logs","app":"web","follow":true} -> {"ok":true,"log_file":"/var/log/handoff.log"}
//     then, with follow, the log's lines as they are written (only `app`'s when given),
//     until either side hangs up (edge/log_follower.h)
// A refusal or an error is {"ok":false,"error":"..."}. Pure codec.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include <nlohmann/json.hpp>

namespace handoff::control {

enum class Command { status, reload, scale, stop, restart, logs, cache_purge };
std::string_view to_string(Command command);

struct Request {
  Command command = Command::status;
  std::string app;  // scale, restart; logs, cache_purge: only this app (empty: all)
  int workers = 0;  // scale: 1..4096
  bool wait = false;         // reload, restart, scale: answer once the rolls / the scale ended
  bool config_only = false;  // reload: roll only the apps whose workers' config changed
  std::int64_t timeout_ms = 0;  // with wait: at most this long (0: the master's bound)
  bool follow = false;  // logs
  std::string prefix{};  // cache_purge: entries whose target starts with it (empty: all)
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
