// Configs that parse but could not run, refused before anything starts: durations whose 0s
// would break the lifecycle, keys written twice, names with control characters, and
// workers whose argv and environment the OS would not start.
#include <doctest/doctest.h>

#include <cstdlib>
#include <string>
#include <variant>
#include <vector>

#ifndef _WIN32
#include <unistd.h>
#endif

#include "supervisor/core/config_loader.h"
#include "supervisor/edge/real_host.h"
#include "supervisor/platform/platform.h"
#include "tests/unit/support.h"

using namespace handoff;

using handoff::test::parse_errors;
using handoff::test::parse_ok;

namespace {

const char* kApp = handoff::test::kOneApp;

std::string with(const std::string& lines) { return std::string(kApp) + lines; }

// kApp with another command.
std::string with_command(const std::string& command) {
  std::string text = kApp;
  const std::string ours = "node server.js";
  return text.replace(text.find(ours), ours.size(), command);
}

}  // namespace

TEST_CASE("a zero heartbeat interval is refused: every SDK worker would be killed as hung") {
  const auto errors = parse_errors(with("    heartbeat: {interval: 0s}\n"));
  REQUIRE(errors.size() == 1);
  CHECK(errors[0] ==
        "test.yaml:6:27: apps[0].heartbeat.interval: must be longer than 0s: at 0s SDK workers send no heartbeat, "
        "and each would be killed as hung");
  // Zero after rounding to milliseconds, and with the check off: still no heartbeat at all.
  CHECK(parse_errors(with("    heartbeat: {interval: 0.4ms}\n")).size() == 1);
  CHECK(parse_errors(with("    heartbeat: {interval: 0ms, timeout: 0s}\n")).size() == 1);
  // timeout: 0s keeps its documented meaning, the check off.
  CHECK(parse_ok(with("    heartbeat: {timeout: 0s}\n")).apps[0].lifecycle.heartbeat_timeout.count() == 0);
}

TEST_CASE("lifecycle durations whose 0s makes no sense are refused, each saying what 0s would do") {
  const auto errors = parse_errors(with(R"(    restart: {min_delay: 0s, max_delay: 0s, stable_after: 0s, crash_loop_window: 0s}
    queue: {timeout: 0s}
    start_timeout: 0ms
)"));
  REQUIRE(errors.size() == 6);
  CHECK(errors[0] == "test.yaml:6:26: apps[0].restart.min_delay: must be longer than 0s: the backoff doubles from "
                     "it, so at 0s it would never grow");
  CHECK(errors[1] == "test.yaml:6:41: apps[0].restart.max_delay: must be longer than 0s: at 0s a slot in "
                     "crash_loop would restart at once, forever");
  CHECK(errors[2] == "test.yaml:6:59: apps[0].restart.stable_after: must be longer than 0s: at 0s every crash of a "
                     "ready worker would reset the backoff, and crash_loop would never come");
  CHECK(errors[3] == "test.yaml:6:82: apps[0].restart.crash_loop_window: must be longer than 0s: at 0s no two "
                     "crashes would fall in it, and crash_loop would never come");
  CHECK(errors[4] == "test.yaml:7:22: apps[0].queue.timeout: must be longer than 0s: at 0s any connection that "
                     "waits, even behind one being handed to the worker, would get 503");
  CHECK(errors[5] == "test.yaml:8:20: apps[0].start_timeout: must be longer than 0s: at 0s every worker would be "
                     "killed before it could be ready");
  CHECK(parse_errors("listeners:\n  - address: 127.0.0.1:8080\n    head_timeout: 0s\napps:\n  - {name: a, command: x}\n")
            .at(0) == "test.yaml:3:19: listeners[0].head_timeout: must be longer than 0s: at 0s any head not read at "
                      "once would get 408");
}

TEST_CASE("grace periods of 0s mean SIGKILL at once, and are kept") {
  const auto c = parse_ok(with("    drain_timeout: 0s\nshutdown_timeout: 0s\n"));
  CHECK(c.apps[0].lifecycle.drain_timeout.count() == 0);
  CHECK(c.shutdown_timeout.count() == 0);
}

TEST_CASE("a key written twice is refused at its second line, naming the first") {
  const auto errors = parse_errors(with("    workers: 2\n    env:\n      MODE: a\n      MODE: b\n    workers: 3\n"));
  REQUIRE(errors.size() == 2);
  CHECK(errors[0] == "test.yaml:9:7: apps[0].env.MODE: duplicate key (first at line 8)");
  CHECK(errors[1] == "test.yaml:10:5: apps[0].workers: duplicate key (first at line 6)");
  // At the top level; only the repeated keys are reported, since reading would take each
  // of them in turn (two `apps` lists would look like duplicate apps).
  const auto top = parse_errors(with("apps:\n  - {name: other, command: x}\n"));
  REQUIRE(top.size() == 1);
  CHECK(top[0] == "test.yaml:6:1: apps: duplicate key (first at line 3)");
  // In flow mappings, and in every element of a list.
  CHECK(parse_errors(with("    heartbeat: {interval: 1s, interval: 2s}\n")).at(0) ==
        "test.yaml:6:31: apps[0].heartbeat.interval: duplicate key (first at line 6)");
  CHECK(parse_errors(with("  - name: b\n    command: x\n    name: c\n")).at(0) ==
        "test.yaml:8:5: apps[1].name: duplicate key (first at line 6)");
  // Quoting does not make another key.
  CHECK(parse_errors(with("    env: {A: x, \"A\": y}\n")).at(0) == "test.yaml:6:17: apps[0].env.A: duplicate key (first at line 6)");
}

TEST_CASE("aliases are walked once: a shared mapping is reported once, a cycle ends") {
  const auto shared = parse_errors(R"(listeners:
  - address: 127.0.0.1:8080
apps:
  - name: a
    command: x
    env: &common {A: "1", A: "2"}
  - name: b
    command: x
    env: *common
)");
  REQUIRE(shared.size() == 1);
  CHECK(shared[0] == "test.yaml:6:27: apps[0].env.A: duplicate key (first at line 6)");
  // A list that contains itself: refused by the schema, not walked forever.
  CHECK_FALSE(parse_errors(with("    listeners: &self [web, *self]\n")).empty());
}

TEST_CASE("control characters in names are refused, the character shown as an escape") {
  // Apps and listeners: in log lines, metrics labels, the workers' header.
  const auto errors = parse_errors(R"(listeners:
  - address: 127.0.0.1:8080
    name: "web\tfront"
apps:
  - name: "hel\x7flo"
    command: node server.js
    listeners: ["web\x01"]
    routes: ["/chat/\r"]
)");
  REQUIRE(errors.size() == 4);
  CHECK(errors[0] == R"(test.yaml:3:11: listeners[0].name: control character \t in "web\tfront" (not allowed in names and paths))");
  CHECK(errors[1] == R"(test.yaml:5:11: apps[0].name: control character \x7f in "hel\x7flo" (not allowed in names and paths))");
  CHECK(errors[2] == R"(test.yaml:7:17: apps[0].listeners[0]: control character \x01 in "web\x01" (not allowed in names and paths))");
  CHECK(errors[3] == R"(test.yaml:8:14: apps[0].routes[0]: control character \r in "/chat/\r" (not allowed in names and paths))");
  // A block scalar keeps its line break: the most likely way to get one.
  CHECK(parse_errors(with("  - name: |\n      other\n    command: x\n")).at(0) ==
        R"(test.yaml:6:11: apps[1].name: control character \n in "other\n" (not allowed in names and paths))");
}

TEST_CASE("control characters in paths, users and rule keys are refused too; arguments may have them") {
  auto first_error = [](const std::string& text) { return parse_errors(text).at(0); };
  CHECK(first_error(with_command("[\"./bin\\nserver\", \"--flag\"]")) ==
        R"(test.yaml:5:15: apps[0].command: control character \n in "./bin\nserver" (not allowed in names and paths))");
  CHECK(first_error(with("    cwd: \"sub\\x1b[31m\"\n")).starts_with(R"(test.yaml:6:10: apps[0].cwd: control character \x1b in "sub\x1b[31m")"));
  CHECK(first_error(with("    user: \"www\\x00\"\n")).starts_with(R"(test.yaml:6:11: apps[0].user: control character \x00)"));
  CHECK(first_error(with("    group: \"a\\tb\"\n")).starts_with("test.yaml:6:12: apps[0].group: control character"));
  CHECK(first_error(with("    policy: {header: \"X-Room\\n\"}\n")).starts_with("test.yaml:6:22: apps[0].policy.header: control character \\n"));
  CHECK(first_error(with("    policy: {plugin: {path: \"a\\x02.so\"}}\n")).find("apps[0].policy.plugin.path: control character \\x02") != std::string::npos);
  CHECK(first_error(with("control_socket: \"run/\\x03.sock\"\n")).starts_with("test.yaml:6:17: control_socket: control character \\x03"));
  CHECK(first_error(with("user: \"\\x01\"\n")).starts_with("test.yaml:6:7: user: control character \\x01"));
  CHECK(first_error(with("admin: \"127.0.0.1:9090\\n\"\n")).starts_with("test.yaml:6:8: admin: control character \\n"));
  CHECK(first_error("listeners:\n  - address: \"127.0.0.1:8080\\t\"\napps:\n  - {name: a, command: x}\n")
            .starts_with("test.yaml:2:14: listeners[0].address: control character \\t"));
  // Arguments are the program's business.
  CHECK(parse_ok(with_command("[\"node\", \"-e\", \"a\\tb\"]")).apps[0].command.at(2) == "a\tb");
}

TEST_CASE("values quoted in other messages show their control characters too") {
  CHECK(parse_errors(with("    workers: \"4\\n\"\n")).at(0) ==
        R"(test.yaml:6:14: apps[0].workers: expected an integer from 1 to 4096 or `auto`, got "4\n")");
  CHECK(parse_errors(with("    ready: \"sdk\\x01\"\n")).at(0).starts_with(R"(test.yaml:6:12: apps[0].ready: unknown value "sdk\x01")"));
}

namespace {

#ifdef _WIN32
const char* kShell = "cmd";
#else
const char* kShell = "sh";
#endif

// The environment stage's problems with an app running the shell, from a config in "/".
std::vector<std::string> environment_errors(const std::string& lines) {
  auto r = parse_config(with_command(kShell) + lines, "test.yaml", "/", real_host());
  REQUIRE(std::holds_alternative<Config>(r));
  auto config = std::get<Config>(r);
  std::vector<std::string> out;
  for (const auto& e : check_environment(config, real_host())) out.push_back(e.to_string());
  return out;
}

}  // namespace

TEST_CASE("an app whose environment the OS would not start it with is refused, with the size and the limit") {
  const std::string big(200'000, 'x');
  const auto errors = environment_errors("    env:\n      SMALL: a\n      BIG: " + big + "\n");
  REQUIRE(errors.size() == 1);
#ifdef _WIN32
  CHECK(errors[0].starts_with("test.yaml:4:5: apps[0]: the environment block is "));
  CHECK(errors[0].find("; CreateProcess accepts at most 32767") != std::string::npos);
#else
  const auto page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
  CHECK(errors[0] == "test.yaml:7:7: apps[0].env.BIG: the variable BIG is 200005 bytes with its NUL; execve accepts "
                     "at most " + std::to_string(32 * page) + " for one string (MAX_ARG_STRLEN)");
#endif
  CHECK(environment_errors("    env: {SMALL: a}\n").empty());
}

#ifndef _WIN32
TEST_CASE("one argument too long for execve is refused at the command; one inherited variable at the app") {
  const std::string big(200'000, 'x');
  auto errors = environment_errors("");  // the shell alone fits
  CHECK(errors.empty());
  auto r = parse_config(with_command("[sh, -c, " + big + "]"), "test.yaml", "/", real_host());
  auto config = std::get<Config>(r);
  auto problems = check_environment(config, real_host());
  REQUIRE(problems.size() == 1);
  CHECK(problems[0].to_string().starts_with(
      "test.yaml:5:14: apps[0].command: argument 2 is 200001 bytes with its NUL; execve accepts at most "));

  ::setenv("TEST_INHERITED_BIG", big.c_str(), 1);
  errors = environment_errors("");
  ::unsetenv("TEST_INHERITED_BIG");
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].starts_with("test.yaml:4:5: apps[0]: the variable TEST_INHERITED_BIG is 200020 bytes"));
  CHECK(errors[0].ends_with("(it comes from the supervisor's environment)"));
}

TEST_CASE("execve's total: every string with its NUL and a pointer, the program's path once more") {
  // Strings each below MAX_ARG_STRLEN, together past any limit Linux applies (at most 6 MiB).
  const std::vector<std::string> argv{"/bin/sh"};
  std::vector<std::string> env(64, "V=" + std::string(100'000, 'x'));
  const auto overflow = platform::exec_overflow(argv, env);
  REQUIRE(overflow);
  CHECK_FALSE(overflow->argument);
  CHECK_FALSE(overflow->variable);
  const std::size_t total = 2 * 8 + 65 * sizeof(char*) + 64 * 100'003;
  CHECK(overflow->message.starts_with("the command and the environment come to " + std::to_string(total) +
                                      " bytes (each string with its NUL and a pointer); execve accepts at most "));
  env.resize(2);
  CHECK_FALSE(platform::exec_overflow(argv, env));
}
#endif
