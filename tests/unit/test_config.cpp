#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>
#include <variant>

#include "supervisor/core/address.h"
#include "supervisor/core/command_line.h"
#include "supervisor/core/config_loader.h"
#include "tests/unit/support.h"
#include "supervisor/core/config_schema.h"
#include "supervisor/core/config_values.h"
#include "supervisor/edge/real_host.h"
#include "supervisor/platform/platform.h"
#include "supervisor/core/worker_env.h"

using namespace handoff;

using handoff::test::parse_errors;
using handoff::test::parse_ok;

namespace {


const char* kMinimal = handoff::test::kOneApp;

}  // namespace

TEST_CASE("a minimal config gets its defaults") {
  const auto c = parse_ok(kMinimal);
  REQUIRE(c.listeners.size() == 1);
  CHECK(c.listeners[0].host == "127.0.0.1");
  CHECK(c.listeners[0].port == 8080);
  CHECK(c.listeners[0].backlog == 511);
  CHECK(c.listeners[0].name == "127.0.0.1:8080");
  REQUIRE(c.apps.size() == 1);
  const auto& app = c.apps[0];
  CHECK(app.command == std::vector<std::string>{"node", "server.js"});
  CHECK(app.workers == 1);
  CHECK(app.policy.name == "round_robin");
  CHECK(app.ready == ReadyMode::sdk);
  CHECK(app.cwd == "/base");
  CHECK(app.listeners == std::vector<std::string>{"127.0.0.1:8080"});
}

TEST_CASE("every documented key is read") {
  const auto c = parse_ok(R"(listeners:
  - address: "[::1]:9000"
    name: web
    backlog: 64
apps:
  - name: chat
    command: ["./bin/chat", "--flag"]
    workers: 4
    policy: ip_hash
    ready: on_spawn
    env: {A: "1", B: two}
    cwd: sub/dir
    listeners: [web]
ipc_max_message: 4096
)");
  CHECK(c.listeners[0].host == "::1");
  CHECK(c.listeners[0].name == "web");
  CHECK(c.listeners[0].backlog == 64);
  const auto& app = c.apps[0];
  CHECK(app.command == std::vector<std::string>{"./bin/chat", "--flag"});
  CHECK(app.workers == 4);
  CHECK(app.policy.name == "ip_hash");
  CHECK(app.ready == ReadyMode::on_spawn);
  CHECK(app.env.at("B") == "two");
  CHECK(std::filesystem::path(app.cwd) == std::filesystem::path("/base/sub/dir"));  // '\\' on Windows
  CHECK(c.ipc_max_message == 4096);
}

namespace {

#ifdef __linux__
// The kernel's own account of our affinity, "0-3,8,10-11" in /proc/self/status: a second
// source for the count that `workers: auto` takes from sched_getaffinity.
int cpus_allowed_by_proc() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (!line.starts_with("Cpus_allowed_list:")) continue;
    std::stringstream ranges(line.substr(line.find(':') + 1));
    int count = 0;
    std::string range;
    while (std::getline(ranges, range, ',')) {
      const auto dash = range.find('-');
      count += dash == std::string::npos ? 1 : std::stoi(range.substr(dash + 1)) - std::stoi(range.substr(0, dash)) + 1;
    }
    return count;
  }
  return 0;
}
#endif

}  // namespace

TEST_CASE("workers: auto is one per CPU this process may run on") {
  const int cpus = platform::usable_cpu_count();
  CHECK(cpus >= 1);
  CHECK(static_cast<unsigned>(cpus) <= std::max(1u, std::thread::hardware_concurrency()));
#ifdef __linux__
  CHECK(cpus == cpus_allowed_by_proc());
#endif
  const auto text = std::string(kMinimal) + "    workers: auto\n";
  CHECK(std::get<Config>(parse_config(text, "test.yaml", "/base", real_host())).apps[0].workers == cpus);
  // The count is the host's, within 1..kMaxWorkers.
  CHECK(parse_ok(text).apps[0].workers == 4);
  for (const auto& [counted, workers] : {std::pair{0, 1}, std::pair{kMaxWorkers + 1, kMaxWorkers}}) {
    const HostFacts host = test::host_with_cpus(counted);
    CHECK(std::get<Config>(parse_config(text, "test.yaml", "/base", host)).apps[0].workers == workers);
  }
  // Other words are not numbers of workers.
  CHECK(parse_errors(std::string(kMinimal) + "    workers: max\n").at(0) ==
        "test.yaml:6:14: apps[0].workers: expected an integer from 1 to 4096 or `auto`, got \"max\"");
}

TEST_CASE("errors name file, line, column and field") {
  const auto errors = parse_errors(R"(listeners:
  - address: 127.0.0.1:8080
apps:
  - name: hello
    command: node server.js
    wrokers: 2
    policy: ip_hsah
    workers: many
)");
  REQUIRE(errors.size() == 3);
  CHECK(errors[0] == "test.yaml:6:5: apps[0].wrokers: unknown key (did you mean 'workers'?)");
  CHECK(errors[1] ==
        "test.yaml:7:13: apps[0].policy: unknown policy \"ip_hsah\" (one of: round_robin, least_connections, ip_hash, url_segment, host, header, cookie, query, "
        "plugin); did you mean "
        "\"ip_hash\"?");
  CHECK(errors[2] == "test.yaml:8:14: apps[0].workers: expected an integer from 1 to 4096 or `auto`, got \"many\"");
}

TEST_CASE("missing keys, bad addresses, broken YAML and dangling references") {
  const auto no_listeners = parse_errors("apps: []\n");
  CHECK(no_listeners.size() == 2);
  CHECK(no_listeners.at(0) == "test.yaml:1:7: apps: expected a non-empty list, got a list");
  CHECK(no_listeners.at(1) == "test.yaml:1:1: missing required key 'listeners'");
  CHECK(parse_errors("listeners:\n  - address: localhost:80\napps:\n  - {name: a, command: x}\n").at(0) ==
        "test.yaml:2:14: listeners[0].address: expected an IP address and port, as 127.0.0.1:8080 or [::1]:8080, "
        "got \"localhost:80\"");
  CHECK(parse_errors("listeners: [\n").at(0).starts_with("test.yaml:2:1: invalid YAML"));
  CHECK(parse_errors("").at(0) == "test.yaml: the file is empty");
  auto dangling = parse_errors(std::string(kMinimal) + "    listeners: [nope]\n");
  CHECK(dangling.at(0).find("apps[0].listeners[0]: no listener is named \"nope\"") != std::string::npos);
  auto shared = parse_errors(std::string(kMinimal) + "  - name: other\n    command: x\n");
  CHECK(shared.at(0).find("is shared by several apps, so app \"hello\" needs `routes`") != std::string::npos);
  auto twice = parse_errors(std::string(kMinimal) + "    routes: [/a/]\n  - name: other\n    command: x\n    routes: [/a/]\n");
  CHECK(twice.at(0).find("route \"/a/\" is claimed by both") != std::string::npos);
  CHECK(parse_errors(std::string(kMinimal) + "    routes: [a/]\n").at(0).find("starts with '/'") != std::string::npos);
  CHECK(parse_errors("listeners:\n  - address: 127.0.0.1:80\napps:\n  - name: a\n    command: \"node 'app.js\"\n")
            .at(0) == "test.yaml:5:14: apps[0].command: unbalanced quote in command");
}

TEST_CASE("a command that is not there is found before anything starts") {
  auto r = parse_config(std::string(kMinimal).replace(std::string(kMinimal).find("node server.js"), 14,
                                                      "no-such-program-here"),
                        "test.yaml", "/", real_host());
  auto config = std::get<Config>(r);
  auto problems = check_environment(config, real_host());
  REQUIRE(problems.size() == 1);
  CHECK(problems[0].to_string() ==
        "test.yaml:5:14: apps[0].command: command not found: \"no-such-program-here\" (looked in PATH)");
}

TEST_CASE("a log_file in a directory that is not there is found before anything starts") {
  auto r = parse_config(std::string(kMinimal).replace(std::string(kMinimal).find("node server.js"), 14, "sh") +
                            "log_file: no-such-dir-here/handoff.log\n",
                        "test.yaml", "/", real_host());
  auto config = std::get<Config>(r);
  auto problems = check_environment(config, real_host());
  // (On Windows `sh` is not found either: only the log_file's problem is looked at.)
  std::erase_if(problems, [](const auto& p) { return p.to_string().find(": log_file:") == std::string::npos; });
  REQUIRE(problems.size() == 1);
  const std::string dir = (std::filesystem::path("/") / "no-such-dir-here").lexically_normal().string();
  CHECK(problems[0].to_string() == "test.yaml:6:11: log_file: no such directory: " + dir);
}

TEST_CASE("host:port parsing") {
  CHECK(parse_host_port("0.0.0.0:80")->host == "0.0.0.0");
  CHECK(parse_host_port("[::]:8080")->port == 8080);
  CHECK_FALSE(parse_host_port("::1:8080"));  // IPv6 needs brackets
  CHECK_FALSE(parse_host_port("127.0.0.1"));
  CHECK_FALSE(parse_host_port("127.0.0.1:0"));
  CHECK_FALSE(parse_host_port("[127.0.0.1]:80"));
  CHECK(parse_host_port("[fe80::1%eth0]:8080")->host == "fe80::1%eth0");  // bound with its zone
  CHECK_FALSE(parse_host_port("01.2.3.4:80"));
}

TEST_CASE("command strings split like a shell would, without one") {
  CHECK(*split_command_line("node  app.js --x") == std::vector<std::string>{"node", "app.js", "--x"});
  CHECK(*split_command_line("a 'b c' \"d \\\"e\\\"\" f\\ g") ==
        std::vector<std::string>{"a", "b c", "d \"e\"", "f g"});
  CHECK(*split_command_line("x ''") == std::vector<std::string>{"x", ""});
  CHECK_FALSE(split_command_line("a 'b"));
}

TEST_CASE("worker environment: channel and slot variables, no stale Node variables") {
  AppConfig app;
  app.name = "chat";
  app.workers = 3;
  app.env = {{"MODE", "prod"}, {"PATH", "/custom"}};
  auto env = worker_environment({{"PATH", "/usr/bin"}, {"NODE_UNIQUE_ID", "1"}, {"NODE_CHANNEL_FD", "7"},
                                 {"HANDOFF_SLOT", "9"}, {"HOME", "/root"}},
                                {app, 2, 5});
  auto has = [&](const std::string& kv) { return std::find(env.begin(), env.end(), kv) != env.end(); };
  CHECK(has("NODE_CHANNEL_FD=3"));
  CHECK(has("NODE_CHANNEL_SERIALIZATION_MODE=json"));
  CHECK(has("HANDOFF_APP=chat"));
  CHECK(has("HANDOFF_SLOT=2"));
  CHECK(has("HANDOFF_WORKERS=3"));
  CHECK(has("HANDOFF_GENERATION=5"));
  CHECK(has("PATH=/custom"));
  CHECK(has("HOME=/root"));
  for (const auto& kv : env) CHECK_FALSE(kv.starts_with("NODE_UNIQUE_ID="));
  CHECK(env.size() == 9);  // HOME, MODE, PATH and the six of ours
}

TEST_CASE("docs/config.md is the schema's own reference") {
  std::ifstream in(std::string(HANDOFF_SOURCE_DIR) + "/docs/config.md");
  REQUIRE(in);
  std::stringstream text;
  text << in.rdbuf();
  // Regenerate with: build/bin/supervisor config-reference > docs/config.md
  CHECK(text.str() == config_reference_markdown());
}

TEST_CASE("durations and sizes take units") {
  CHECK(parse_duration("100ms") == Milliseconds(100));
  CHECK(parse_duration("1.5s") == Milliseconds(1500));
  CHECK(parse_duration("2m") == Milliseconds(120000));
  CHECK(parse_duration("1h") == Milliseconds(3600000));
  CHECK_FALSE(parse_duration("30"));  // ambiguous without a unit
  CHECK_FALSE(parse_duration("-1s"));
  CHECK_FALSE(parse_duration("soon"));
  CHECK(parse_size("1048576") == 1048576u);
  CHECK(parse_size("512MiB") == 512ull * 1024 * 1024);
  CHECK(parse_size("2G") == 2'000'000'000ull);
  CHECK_FALSE(parse_size("12 parsecs"));
  CHECK(format_duration(Milliseconds(30000)) == "30s");
  CHECK(format_duration(Milliseconds(1500)) == "1500ms");
}

TEST_CASE("lifecycle keys are read into the app's policy") {
  const auto c = parse_ok(std::string(kMinimal) + R"(    restart: {min_delay: 50ms, max_delay: 5s, stable_after: 1m, crash_loop_exits: 3, crash_loop_window: 30s}
    heartbeat: {interval: 200ms, timeout: 2s}
    queue: {max: 10, timeout: 1s}
    on_unavailable: rehash
    start_timeout: 3s
    drain_timeout: 4s
    max_rss: 256MiB
    max_requests: 1000
    max_requests_jitter: 100
shutdown_timeout: 7s
log_format: json
log_file: logs/handoff.log
log_max_size: 10MiB
log_keep: 3
)");
  const auto& lc = c.apps[0].lifecycle;
  CHECK(lc.min_delay == Milliseconds(50));
  CHECK(lc.max_delay == Milliseconds(5000));
  CHECK(lc.stable_after == Milliseconds(60000));
  CHECK(lc.crash_loop_exits == 3);
  CHECK(lc.crash_loop_window == Milliseconds(30000));
  CHECK(lc.heartbeat_interval == Milliseconds(200));
  CHECK(lc.heartbeat_timeout == Milliseconds(2000));
  CHECK(lc.start_timeout == Milliseconds(3000));
  CHECK(lc.drain_timeout == Milliseconds(4000));
  CHECK(lc.max_rss == 256ull * 1024 * 1024);
  CHECK(lc.max_requests == 1000);
  CHECK(lc.max_requests_jitter == 100);
  CHECK(c.apps[0].queue.max == 10);
  CHECK(c.apps[0].queue.timeout == Milliseconds(1000));
  CHECK(c.apps[0].on_unavailable == Unavailable::rehash);
  CHECK(c.shutdown_timeout == Milliseconds(7000));
  CHECK(c.log_format == LogFormat::json);
  // Relative to the config's directory ("/" here, which has no drive letter on Windows).
  CHECK(std::filesystem::path(c.log_file.path).generic_string().ends_with("logs/handoff.log"));
  CHECK(std::filesystem::path(c.log_file.path).has_root_directory());
  CHECK(c.log_file.max_size == 10ull * 1024 * 1024);
  CHECK(c.log_file.keep == 3);
  CHECK(parse_ok(kMinimal).log_file == LogFileConfig{});
}

TEST_CASE("lifecycle errors are located and explained") {
  const auto errors = parse_errors(std::string(kMinimal) + R"(    restart: {min_delay: 5s, max_delay: 1s, max_dealy: 2s}
    heartbeat: {interval: 1s, timeout: 1s}
    max_rss: lots
    drain_timeout: 30
)");
  REQUIRE(errors.size() == 3);
  CHECK(errors[0] == "test.yaml:6:45: apps[0].restart.max_dealy: unknown key (did you mean 'max_delay'?)");
  CHECK(errors[1] == "test.yaml:8:14: apps[0].max_rss: expected a size in bytes such as 1048576, 512MiB or 2G, got \"lots\"");
  CHECK(errors[2] == "test.yaml:9:20: apps[0].drain_timeout: expected a duration such as 500ms, 30s, 5m or 1h, got \"30\"");
  // Rules across keys are checked once every key is well-formed.
  const auto cross = parse_errors(std::string(kMinimal) + R"(    restart: {min_delay: 5s, max_delay: 1s}
    heartbeat: {interval: 1s, timeout: 1s}
)");
  REQUIRE(cross.size() == 2);
  CHECK(cross[0] == "test.yaml:6:14: apps[0].restart: min_delay is longer than max_delay");
  CHECK(cross[1] == "test.yaml:7:16: apps[0].heartbeat: timeout must be longer than interval");
}

TEST_CASE("an unknown user is a config error") {
#ifdef _WIN32
  // Windows has no such thing as a worker user: the check says so for any name.
  const std::string program = "cmd", expected = "running workers as another user is not supported on Windows";
#else
  const std::string program = "sh", expected = "no such user \"no-such-user-here\"";
#endif
  auto r = parse_config(std::string(kMinimal).replace(std::string(kMinimal).find("node server.js"), 14, program) +
                            "    user: no-such-user-here\n",
                        "test.yaml", "/", real_host());
  auto config = std::get<Config>(r);
  auto problems = check_environment(config, real_host());
  REQUIRE(problems.size() == 1);
  CHECK(problems[0].to_string() == "test.yaml:4:5: apps[0].user: " + expected);
}

TEST_CASE("policies with parameters: one rule per app, each parameter checked where it is written") {
  auto app = [](std::string lines) { return std::string(kMinimal) + lines; };
  auto config = std::get<Config>(parse_config(app("    policy: {url_segment: {index: 2, direct: true}}\n    missing_key: round_robin\n"), "test.yaml", "/tmp", test::parsing_host()));
  CHECK(config.apps[0].policy.name == "url_segment");
  CHECK(config.apps[0].policy.index == 2);
  CHECK(config.apps[0].policy.direct);
  CHECK(config.apps[0].policy.missing_key == "round_robin");
  config = std::get<Config>(parse_config(app("    policy:\n      header: X-Room\n"), "test.yaml", "/tmp", test::parsing_host()));
  CHECK(config.apps[0].policy.key_name == "X-Room");
  config = std::get<Config>(parse_config(app("    policy: {plugin: {path: lib/a.so, config: \"x=1\"}}\n"), "test.yaml", "/tmp", test::parsing_host()));
  CHECK(std::filesystem::path(config.apps[0].policy.plugin_path).lexically_normal() == std::filesystem::path("/tmp/lib/a.so").lexically_normal());
  CHECK(config.apps[0].policy.plugin_config == "x=1");

  CHECK(parse_errors(app("    policy: {url_segment: {index: 0}}\n")).at(0) ==
        "test.yaml:6:35: apps[0].policy.url_segment.index: expected an integer from 1 to 64, got \"0\"");
  CHECK(parse_errors(app("    policy: {url_segment: {direct: yes}}\n")).at(0).find("expected true or false") != std::string::npos);
  CHECK(parse_errors(app("    policy: header\n")).at(0).find("this rule needs a name: `policy: {header: NAME}`") != std::string::npos);
  CHECK(parse_errors(app("    policy: {ip_hash: x}\n")).at(0).find("this rule takes no parameters") != std::string::npos);
  CHECK(parse_errors(app("    policy: {header: a, cookie: b}\n")).at(0).find("expected one rule") != std::string::npos);
  CHECK(parse_errors(app("    policy: {plugin: {config: x}}\n")).at(0).find("missing required key 'path'") != std::string::npos);
  CHECK(parse_errors(app("    missing_key: url_segment\n")).at(0).find("(one of: 404, round_robin, least_connections, ip_hash)") != std::string::npos);
}
