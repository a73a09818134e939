#include "worker-sdk/cpp/src/http_settings.h"

#include <algorithm>
#include <cstdint>
#include <limits>

namespace handoff {

namespace {

template <class T>
T clamp_to(std::uint64_t value) {
  return static_cast<T>(std::min<std::uint64_t>(value, std::numeric_limits<T>::max()));
}

using Field = std::uint64_t ipc::HttpSettings::*;

// One of the program's options (`name`, as WorkerOptions spells it) takes the setting
// `field` of the master's http settings; the config key in the message is the setting's
// own (protocols/http_settings.h).
template <class T>
void set(const char* name, Field field, const ipc::HttpSettings& http, T program, T sdk_default, T& option,
         std::vector<std::string>& replaced) {
  const T value = clamp_to<T>(http.*field);
  if (program != sdk_default && program != value)
    replaced.push_back(std::string("handoff worker: ") + name + " " + std::to_string(program) +
                       " set by the program is replaced by the supervisor's http." +
                       std::string(http_setting(field).config) + " (" + std::to_string(value) + ")");
  option = value;
}

}  // namespace

std::vector<std::string> apply_http_settings(const ipc::HttpSettings& http, const WorkerOptions& program,
                                             WorkerOptions& options) {
  using H = ipc::HttpSettings;
  const WorkerOptions d;
  std::vector<std::string> replaced;
  set("keep_alive_timeout_ms", &H::keep_alive_timeout_ms, http, program.keep_alive_timeout_ms,
      d.keep_alive_timeout_ms, options.keep_alive_timeout_ms, replaced);
  set("headers_timeout_ms", &H::headers_timeout_ms, http, program.headers_timeout_ms, d.headers_timeout_ms,
      options.headers_timeout_ms, replaced);
  set("request_timeout_ms", &H::request_timeout_ms, http, program.request_timeout_ms, d.request_timeout_ms,
      options.request_timeout_ms, replaced);
  set("limits.max_requests_per_socket", &H::max_requests_per_socket, http, program.limits.max_requests_per_socket,
      d.limits.max_requests_per_socket, options.limits.max_requests_per_socket, replaced);
  set("limits.max_header_size", &H::max_header_size, http, program.limits.max_header_size,
      d.limits.max_header_size, options.limits.max_header_size, replaced);
  set("limits.max_body_size", &H::max_body_size, http, program.limits.max_body_size, d.limits.max_body_size,
      options.limits.max_body_size, replaced);
  return replaced;
}

}  // namespace handoff
