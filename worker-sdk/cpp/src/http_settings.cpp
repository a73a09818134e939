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

template <class T>
void set(const char* name, const char* config_key, T program, T sdk_default, T value, T& field,
         std::vector<std::string>& replaced) {
  if (program != sdk_default && program != value)
    replaced.push_back(std::string("handoff worker: ") + name + " " + std::to_string(program) +
                       " set by the program is replaced by the supervisor's http." + config_key + " (" +
                       std::to_string(value) + ")");
  field = value;
}

}  // namespace

std::vector<std::string> apply_http_settings(const ipc::HttpSettings& http, const WorkerOptions& program,
                                             WorkerOptions& options) {
  const WorkerOptions d;
  std::vector<std::string> replaced;
  set("keep_alive_timeout_ms", "keep_alive_timeout", program.keep_alive_timeout_ms, d.keep_alive_timeout_ms,
      clamp_to<unsigned>(http.keep_alive_timeout_ms), options.keep_alive_timeout_ms, replaced);
  set("headers_timeout_ms", "headers_timeout", program.headers_timeout_ms, d.headers_timeout_ms,
      clamp_to<unsigned>(http.headers_timeout_ms), options.headers_timeout_ms, replaced);
  set("request_timeout_ms", "request_timeout", program.request_timeout_ms, d.request_timeout_ms,
      clamp_to<unsigned>(http.request_timeout_ms), options.request_timeout_ms, replaced);
  set("limits.max_requests_per_socket", "max_requests_per_socket", program.limits.max_requests_per_socket,
      d.limits.max_requests_per_socket, clamp_to<std::size_t>(http.max_requests_per_socket),
      options.limits.max_requests_per_socket, replaced);
  set("limits.max_header_size", "max_header_size", program.limits.max_header_size, d.limits.max_header_size,
      clamp_to<std::size_t>(http.max_header_size), options.limits.max_header_size, replaced);
  set("limits.max_body_size", "max_body_size", program.limits.max_body_size, d.limits.max_body_size,
      clamp_to<std::size_t>(http.max_body_size), options.limits.max_body_size, replaced);
  return replaced;
}

}  // namespace handoff
