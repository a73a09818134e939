// Helpers several unit test files share: reading a config from text, and collecting an
// HttpSession's output.
#pragma once

#include <doctest/doctest.h>

#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "worker-sdk/cpp/src/http_session.h"

#include "supervisor/core/config_loader.h"
#include "supervisor/core/host_facts.h"

namespace handoff::test {

// A GET as the C++ SDK's parser delivers it (cache tests).
inline Request get_request(std::string target, std::vector<Header> headers = {{"Host", "example.com"}}) {
  Request r;
  r.method = "GET";
  r.target = std::move(target);
  r.headers = std::move(headers);
  return r;
}

// A machine with `cpus` CPUs (`workers: auto`) that answers nothing else: all the schema
// asks. Tests of what a config asks of the real machine pass real_host() instead.
inline HostFacts host_with_cpus(int cpus) {
  HostFacts host;
  host.usable_cpu_count = [cpus] { return cpus; };
  return host;
}

// The machine the schema tests read configs on.
inline const HostFacts& parsing_host() {
  static const HostFacts host = host_with_cpus(4);
  return host;
}

// The smallest config that loads: one listener, one app. Tests append keys to its app.
inline constexpr const char* kOneApp = R"(listeners:
  - address: 127.0.0.1:8080
apps:
  - name: hello
    command: node server.js
)";

// A config that must load (its errors, if any, fail the test), from text named test.yaml in /base.
inline Config parse_ok(const std::string& text) {
  auto r = parse_config(text, "test.yaml", "/base", parsing_host());
  if (auto* errors = std::get_if<ConfigErrors>(&r))
    for (const auto& e : *errors) FAIL_CHECK(e.to_string());
  REQUIRE(std::holds_alternative<Config>(r));
  return std::get<Config>(r);
}

// The located errors of a config that must not load.
inline std::vector<std::string> parse_errors(const std::string& text) {
  auto r = parse_config(text, "test.yaml", "/base", parsing_host());
  REQUIRE(std::holds_alternative<ConfigErrors>(r));
  std::vector<std::string> out;
  for (const auto& e : std::get<ConfigErrors>(r)) out.push_back(e.to_string());
  return out;
}

// Everything the session has to write so far, heads and bodies in order.
inline std::string take_all_output(HttpSession& s) {
  std::string all;
  for (auto& r : s.take_output()) all += r.head + r.body;
  return all;
}

// How often `needle` occurs in `haystack` (overlapping occurrences count).
inline std::size_t count(const std::string& haystack, std::string_view needle) {
  std::size_t n = 0;
  for (auto pos = haystack.find(needle); pos != std::string::npos; pos = haystack.find(needle, pos + 1)) ++n;
  return n;
}

}  // namespace handoff::test
