// The control protocol's `logs` request (supervisor logs [APP] [--follow]).
#include <doctest/doctest.h>

#include <string>
#include <variant>

#include "supervisor/core/control/control_protocol.h"

using namespace handoff;

TEST_CASE("control protocol: logs, with its app and follow") {
  control::Request follow{.command = control::Command::logs, .app = "web", .follow = true};
  CHECK(control::encode(follow) == "{\"cmd\":\"logs\",\"app\":\"web\",\"follow\":true}\n");
  auto back = control::decode_request(R"({"cmd":"logs","app":"web","follow":true})");
  REQUIRE(std::holds_alternative<control::Request>(back));
  CHECK(std::get<control::Request>(back).command == control::Command::logs);
  CHECK(std::get<control::Request>(back).app == "web");
  CHECK(std::get<control::Request>(back).follow);
  auto all = control::decode_request(R"({"cmd":"logs"})");
  REQUIRE(std::holds_alternative<control::Request>(all));
  CHECK(std::get<control::Request>(all).app.empty());
  CHECK_FALSE(std::get<control::Request>(all).follow);
  CHECK(std::get<std::string>(control::decode_request(R"({"cmd":"logs","follow":"yes"})")) ==
        "logs: \"follow\" must be true or false");
  CHECK(std::get<std::string>(control::decode_request(R"({"cmd":"logs","app":3})")) == "logs: \"app\" must be a string");

  control::Reply reply{true, {}, {}, "/var/log/handoff.log"};
  const auto line = control::encode(reply);
  CHECK(line == "{\"ok\":true,\"log_file\":\"/var/log/handoff.log\"}\n");
  auto decoded = control::decode_reply(line.substr(0, line.size() - 1));
  REQUIRE(std::holds_alternative<control::Reply>(decoded));
  CHECK(std::get<control::Reply>(decoded).log_file == "/var/log/handoff.log");
}
