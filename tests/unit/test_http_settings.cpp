// The master's `http` settings applied to a C++ worker's options: the config wins, and a
// value the program chose itself is named when it is replaced.
#include "worker-sdk/cpp/src/http_settings.h"

#include <doctest/doctest.h>

using namespace handoff;

namespace {

const ipc::HttpSettings kConfig{.keep_alive_timeout_ms = 7000,
                                .headers_timeout_ms = 20000,
                                .request_timeout_ms = 40000,
                                .max_requests_per_socket = 50,
                                .max_header_size = 8192,
                                .max_body_size = 1000};

}  // namespace

TEST_CASE("http settings: every value is applied; a program on the defaults hears nothing") {
  const WorkerOptions program;
  WorkerOptions options = program;
  CHECK(apply_http_settings(kConfig, program, options).empty());
  CHECK(options.keep_alive_timeout_ms == 7000);
  CHECK(options.headers_timeout_ms == 20000);
  CHECK(options.request_timeout_ms == 40000);
  CHECK(options.limits.max_requests_per_socket == 50);
  CHECK(options.limits.max_header_size == 8192);
  CHECK(options.limits.max_body_size == 1000);
  CHECK(options.limits.max_pending_output == WorkerOptions{}.limits.max_pending_output);  // not the config's
}

TEST_CASE("http settings: the config wins over the program's own values, and says so") {
  WorkerOptions program;
  program.keep_alive_timeout_ms = 65000;
  program.limits.max_body_size = 1000;  // the same as the config: nothing to say
  WorkerOptions options = program;
  const auto lines = apply_http_settings(kConfig, program, options);
  REQUIRE(lines.size() == 1);
  CHECK(lines[0] ==
        "handoff worker: keep_alive_timeout_ms 65000 set by the program is replaced by the supervisor's "
        "http.keep_alive_timeout (7000)");
  CHECK(options.keep_alive_timeout_ms == 7000);
}

TEST_CASE("http settings: values beyond the options' types are clamped, not wrapped") {
  ipc::HttpSettings huge = kConfig;
  huge.request_timeout_ms = 1ull << 40;
  WorkerOptions options;
  (void)apply_http_settings(huge, WorkerOptions{}, options);
  CHECK(options.request_timeout_ms == 0xffffffffu);
}
