// The app's `http:` section: defaults, every key, its errors, and that a change rolls the
// workers on reload.
#include <doctest/doctest.h>

#include <string>
#include <variant>
#include <vector>

#include "supervisor/core/config_loader.h"
#include "tests/unit/support.h"

using namespace handoff;

using handoff::test::parse_errors;
using handoff::test::parse_ok;

namespace {

const char* kApp = handoff::test::kOneApp;


}  // namespace

TEST_CASE("http: defaults are Node's timeouts, a 5 s keep-alive and the C++ SDK's sizes") {
  const auto h = parse_ok(kApp).apps[0].http;
  CHECK(h.keep_alive_timeout_ms == 5'000);
  CHECK(h.headers_timeout_ms == 60'000);
  CHECK(h.request_timeout_ms == 300'000);
  CHECK(h.max_requests_per_socket == 0);
  CHECK(h.max_header_size == 64 * 1024);
  CHECK(h.max_body_size == 16 * 1024 * 1024);
}

TEST_CASE("http: every key is read") {
  const auto h = parse_ok(std::string(kApp) + R"(    http:
      keep_alive_timeout: 65s
      headers_timeout: 10s
      request_timeout: 2m
      max_requests_per_socket: 1000
      max_header_size: 16KiB
      max_body_size: 1G
)").apps[0].http;
  CHECK(h.keep_alive_timeout_ms == 65'000);
  CHECK(h.headers_timeout_ms == 10'000);
  CHECK(h.request_timeout_ms == 120'000);
  CHECK(h.max_requests_per_socket == 1000);
  CHECK(h.max_header_size == 16 * 1024);
  CHECK(h.max_body_size == 1'000'000'000);
  // 0s turns a timeout off.
  const auto off = parse_ok(std::string(kApp) + "    http: {keep_alive_timeout: 0s, headers_timeout: 0s, request_timeout: 0s}\n")
                       .apps[0]
                       .http;
  CHECK(off.keep_alive_timeout_ms == 0);
  CHECK(off.request_timeout_ms == 0);
}

TEST_CASE("http: errors are located and explained") {
  const auto errors = parse_errors(std::string(kApp) + R"(    http:
      keep_alive_timout: 5s
      headers_timeout: 10
      request_timeout: 25h
      max_requests_per_socket: -1
      max_header_size: 100
      max_body_size: 0
)");
  REQUIRE(errors.size() == 6);
  CHECK(errors[0] == "test.yaml:7:7: apps[0].http.keep_alive_timout: unknown key (did you mean 'keep_alive_timeout'?)");
  CHECK(errors[1] ==
        "test.yaml:8:24: apps[0].http.headers_timeout: expected a duration such as 500ms, 30s, 5m or 1h, got \"10\"");
  CHECK(errors[2] == "test.yaml:9:24: apps[0].http.request_timeout: at most 24h (0s: no timeout)");
  CHECK(errors[3] ==
        "test.yaml:10:32: apps[0].http.max_requests_per_socket: expected an integer from 0 to 2147483648, got \"-1\"");
  CHECK(errors[4] == "test.yaml:11:24: apps[0].http.max_header_size: expected a size from 1KiB to 64MiB");
  CHECK(errors[5] ==
        "test.yaml:12:22: apps[0].http.max_body_size: expected a size of at least 1 byte (there is no unlimited)");

  const auto cross = parse_errors(std::string(kApp) + "    http: {headers_timeout: 2m, request_timeout: 1m}\n");
  REQUIRE(cross.size() == 1);
  CHECK(cross[0] == "test.yaml:6:11: apps[0].http: headers_timeout is longer than request_timeout");
  // With either off there is nothing to compare.
  parse_ok(std::string(kApp) + "    http: {headers_timeout: 2m, request_timeout: 0s}\n");
}

TEST_CASE("http: a change means new workers on reload; the same values do not") {
  const auto before = parse_ok(kApp).apps[0];
  const auto same = parse_ok(std::string(kApp) + "    http: {keep_alive_timeout: 5s}\n").apps[0];
  const auto changed = parse_ok(std::string(kApp) + "    http: {keep_alive_timeout: 6s}\n").apps[0];
  CHECK(before.same_workers_as(same));
  CHECK_FALSE(before.same_workers_as(changed));
}
