// The app's `http:` section of cluster.yaml: six settings for the workers' HTTP servers,
// read by the master's config (supervisor/core/config.h keeps it as this struct), sent
// in `welcome` and applied by both SDKs. kHttpSettings is the one list of them: each
// setting's key in cluster.yaml, its field in welcome's `http` object, its unit. The
// codec, the config schema and the C++ SDK derive from it;
// tests/fixtures/http-settings.json is checked against it by a unit test, and the Node
// SDK's list (worker-sdk/node/http-settings.js) against the fixture.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

#include "protocols/defaults.h"

namespace handoff {

namespace ipc {

// Milliseconds and bytes; a timeout of 0 means none, max_requests_per_socket 0 means no
// limit. All six travel together.
struct HttpSettings {
  std::uint64_t keep_alive_timeout_ms = defaults::kKeepAliveTimeoutMs;
  std::uint64_t headers_timeout_ms = defaults::kHeadersTimeoutMs;
  std::uint64_t request_timeout_ms = defaults::kRequestTimeoutMs;
  std::uint64_t max_requests_per_socket = defaults::kMaxRequestsPerSocket;
  std::uint64_t max_header_size = defaults::kMaxHeaderSize;
  std::uint64_t max_body_size = defaults::kMaxBodySize;
  bool operator==(const HttpSettings&) const = default;
};

}  // namespace ipc

struct HttpSetting {
  enum class Unit { milliseconds, bytes, count };
  std::string_view config;  // the key under `http:` in cluster.yaml
  std::string_view wire;    // the field of welcome's `http` object
  Unit unit;
  std::uint64_t ipc::HttpSettings::*field;
};

inline constexpr std::array<HttpSetting, 6> kHttpSettings{{
    {"keep_alive_timeout", "keep_alive_timeout_ms", HttpSetting::Unit::milliseconds,
     &ipc::HttpSettings::keep_alive_timeout_ms},
    {"headers_timeout", "headers_timeout_ms", HttpSetting::Unit::milliseconds, &ipc::HttpSettings::headers_timeout_ms},
    {"request_timeout", "request_timeout_ms", HttpSetting::Unit::milliseconds, &ipc::HttpSettings::request_timeout_ms},
    {"max_requests_per_socket", "max_requests_per_socket", HttpSetting::Unit::count,
     &ipc::HttpSettings::max_requests_per_socket},
    {"max_header_size", "max_header_size", HttpSetting::Unit::bytes, &ipc::HttpSettings::max_header_size},
    {"max_body_size", "max_body_size", HttpSetting::Unit::bytes, &ipc::HttpSettings::max_body_size},
}};

// The entry of a field (every field has one; a unit test checks).
constexpr const HttpSetting& http_setting(std::uint64_t ipc::HttpSettings::*field) {
  for (const auto& s : kHttpSettings)
    if (s.field == field) return s;
  return kHttpSettings[0];  // unreachable
}

constexpr std::string_view to_string(HttpSetting::Unit unit) {
  switch (unit) {
    case HttpSetting::Unit::milliseconds: return "milliseconds";
    case HttpSetting::Unit::bytes: return "bytes";
    case HttpSetting::Unit::count: return "count";
  }
  return "?";
}

}  // namespace handoff
