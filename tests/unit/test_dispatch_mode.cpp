// Which intake an app gets (core/dispatch_mode.h), alone and through the config.
#include <doctest/doctest.h>

#include <string>
#include <variant>

#include "supervisor/core/config_loader.h"
#include "supervisor/core/dispatch_mode.h"
#include "support.h"

namespace handoff {
namespace {

const KernelDispatchFacts kLinux{.available = true, .why_not = "", .source_hash = false};
const KernelDispatchFacts kLinuxWithHash{.available = true, .why_not = "", .source_hash = true};
const KernelDispatchFacts kWindows{.available = false, .why_not = "Windows has no SO_REUSEPORT groups", .source_hash = false};

ListenerConfig listener(std::string name) {
  ListenerConfig l;
  l.name = std::move(name);
  l.host = "127.0.0.1";
  l.port = 8080;
  return l;
}

AppConfig app(std::string rule = "round_robin", ReadyMode ready = ReadyMode::sdk) {
  AppConfig a;
  a.name = "hello";
  a.policy.name = std::move(rule);
  a.ready = ready;
  return a;
}

HostFacts host(const KernelDispatchFacts& facts) {
  HostFacts h = test::host_with_cpus(4);
  h.kernel_dispatch = [facts] { return facts; };
  return h;
}

std::variant<Config, ConfigErrors> parse_on(const HostFacts& h, const std::string& keys) {
  return parse_config(std::string(test::kOneApp) + keys, "test.yaml", "/base", h);
}

std::string first_error(const std::variant<Config, ConfigErrors>& r) {
  const auto* errors = std::get_if<ConfigErrors>(&r);
  return errors && !errors->empty() ? errors->front().to_string() : std::string("(loaded)");
}

}  // namespace

TEST_CASE("SDK workers with an L4 rule on their own listener get kernel dispatch by default") {
  const auto l = listener("web");
  for (const char* rule : {"round_robin"}) {
    const auto choice = choose_dispatch(app(rule), {{&l, false}}, kLinux);
    REQUIRE(choice.kernel_listener);
    CHECK(choice.kernel_listener->name == "web");
    CHECK(choice.why_master.empty());
  }
  // ip_hash goes to the kernel where its program can be attached (Linux); elsewhere the master.
  CHECK(choose_dispatch(app("ip_hash"), {{&l, false}}, kLinuxWithHash).kernel_listener);
  // With every on_unavailable: a down slot's queue is the master's to rehash or refuse
  // (kernel_queue_takeover).
  for (const Unavailable mode : {Unavailable::rehash, Unavailable::reject}) {
    AppConfig a = app("ip_hash");
    a.on_unavailable = mode;
    CHECK(choose_dispatch(a, {{&l, false}}, kLinuxWithHash).kernel_listener);
  }
  CHECK_FALSE(choose_dispatch(app("ip_hash"), {{&l, false}}, kLinux).kernel_listener);
}

TEST_CASE("plain workers keep master dispatch unless they ask") {
  const auto l = listener("web");
  auto plain = app("round_robin", ReadyMode::on_spawn);
  CHECK_FALSE(choose_dispatch(plain, {{&l, false}}, kLinux).kernel_listener);
  plain.dispatch_asked = DispatchMode::kernel;
  CHECK(choose_dispatch(plain, {{&l, false}}, kLinux).kernel_listener);
  auto sdk = app();
  sdk.dispatch_asked = DispatchMode::master;
  CHECK_FALSE(choose_dispatch(sdk, {{&l, false}}, kLinux).kernel_listener);
}

TEST_CASE("what the kernel cannot do keeps master dispatch, with the reason") {
  const auto l = listener("web");
  auto proxied = listener("lb");
  proxied.proxy_protocol = true;
  const auto other = listener("other");
  auto why = [](const DispatchChoice& c) {
    CHECK_FALSE(c.kernel_listener);
    return c.why_master;
  };
  CHECK(why(choose_dispatch(app("least_connections"), {{&l, false}}, kLinux)).find("least_connections") == 0);
  CHECK(why(choose_dispatch(app("host"), {{&l, false}}, kLinux)).find("reads the request") != std::string::npos);
  CHECK(why(choose_dispatch(app(), {{&l, true}}, kLinux)).find("shared by several apps") != std::string::npos);
  auto routed = app();
  routed.routes = {"/c/"};
  CHECK(why(choose_dispatch(routed, {{&l, false}}, kLinux)).find("`routes`") != std::string::npos);
  CHECK(why(choose_dispatch(app(), {{&proxied, false}}, kLinux)).find("PROXY protocol") != std::string::npos);
  CHECK(why(choose_dispatch(app(), {{&l, false}, {&other, false}}, kLinux)).find("one listener") != std::string::npos);
  CHECK(why(choose_dispatch(app(), {{&l, false}}, kWindows)) == "Windows has no SO_REUSEPORT groups");
}

TEST_CASE("dispatch in the config: the default, and located errors for what cannot apply") {
  const auto linux_host = host(kLinux);
  auto loaded = parse_on(linux_host, "");
  REQUIRE(std::holds_alternative<Config>(loaded));
  CHECK(std::get<Config>(loaded).apps[0].kernel_listener);
  loaded = parse_on(linux_host, "    ready: on_spawn\n");
  CHECK_FALSE(std::get<Config>(loaded).apps[0].kernel_listener);
  loaded = parse_on(linux_host, "    ready: on_spawn\n    dispatch: kernel\n");
  CHECK(std::get<Config>(loaded).apps[0].kernel_listener);
  loaded = parse_on(linux_host, "    dispatch: master\n");
  CHECK_FALSE(std::get<Config>(loaded).apps[0].kernel_listener);
  // A rule the kernel cannot honour keeps the master quietly, unless kernel was asked for.
  CHECK_FALSE(std::get<Config>(parse_on(linux_host, "    policy: least_connections\n")).apps[0].kernel_listener);
  CHECK(first_error(parse_on(linux_host, "    policy: least_connections\n    dispatch: kernel\n"))
            .starts_with("test.yaml:7:15: apps[0].dispatch: cannot dispatch app \"hello\" in the kernel: least_connections"));
  CHECK(first_error(parse_on(linux_host, "    policy: {header: X-Room}\n    dispatch: kernel\n"))
            .find("reads the request") != std::string::npos);
  CHECK(first_error(parse_on(host(kWindows), "    dispatch: kernel\n")) ==
        "test.yaml:6:15: apps[0].dispatch: cannot dispatch app \"hello\" in the kernel: Windows has no SO_REUSEPORT groups");
  CHECK(first_error(parse_on(linux_host, "    dispatch: kernl\n")).find("apps[0].dispatch") != std::string::npos);
  // Windows: master without a word.
  CHECK_FALSE(std::get<Config>(parse_on(host(kWindows), "")).apps[0].kernel_listener);
  // An output cache needs the master's intake: routed around quietly, an error when asked for.
  loaded = parse_on(linux_host, "    cache: {}\n");
  REQUIRE(std::holds_alternative<Config>(loaded));
  CHECK(std::get<Config>(loaded).apps[0].cache.enabled);
  CHECK_FALSE(std::get<Config>(loaded).apps[0].kernel_listener);
  CHECK(first_error(parse_on(linux_host, "    cache: {}\n    dispatch: kernel\n"))
            .find("apps[0].dispatch: cannot dispatch app \"hello\" in the kernel: the app has a `cache`") !=
        std::string::npos);
  CHECK(first_error(parse_on(linux_host, "    cache: {max_size: 1MiB, max_entry: 512KiB}\n")) ==
        "test.yaml:6:12: apps[0].cache.max_entry: max_entry is more than a quarter of max_size");
  CHECK(first_error(parse_on(linux_host, "    cache: {max_sise: 1MiB}\n")).find("apps[0].cache.max_sise") !=
        std::string::npos);
  CHECK(first_error(parse_on(linux_host, "    cache: {lock_timeout: 0s}\n")).find("apps[0].cache.lock_timeout") !=
        std::string::npos);
}

TEST_CASE("kernel dispatch: a PROXY protocol or shared listener is an error when asked for") {
  const auto proxied = parse_config(R"(listeners:
  - address: 127.0.0.1:8080
    proxy_protocol: true
apps:
  - name: hello
    command: node server.js
    dispatch: kernel
)",
                                    "test.yaml", "/base", host(kLinux));
  CHECK(first_error(proxied).find("apps[0].dispatch: cannot dispatch app \"hello\" in the kernel: listener "
                                  "\"127.0.0.1:8080\" takes a PROXY protocol header") != std::string::npos);
  const auto shared = parse_config(R"(listeners:
  - address: 127.0.0.1:8080
apps:
  - name: a
    command: node server.js
    routes: ["/a/"]
    dispatch: kernel
  - name: b
    command: node server.js
    routes: ["/b/"]
)",
                                   "test.yaml", "/base", host(kLinux));
  CHECK(first_error(shared).find("shared by several apps") != std::string::npos);
}


TEST_CASE("kernel dispatch: each slot's socket holds queue.max connections (its backlog)") {
  const auto l = listener("web");
  auto a = app();
  a.queue.max = 300;
  const auto choice = choose_dispatch(a, {{&l, false}}, kLinux);
  REQUIRE(choice.kernel_listener);
  CHECK(choice.kernel_listener->backlog == 300);
}

TEST_CASE("kernel dispatch: when the master takes a slot's queue over") {
  using namespace std::chrono_literals;
  const KernelQueueSlot ready{.ready = true, .failing = false};
  const KernelQueueSlot down{.ready = false, .failing = false};
  const KernelQueueSlot failing{.ready = false, .failing = true};
  const auto takeover = [](const KernelQueueSlot& s, bool affinity, Unavailable mode) {
    const auto t = kernel_queue_takeover(s, affinity, mode, 30s);
    return t ? std::string(name_of(t->reason)) + " after " + std::to_string(t->after.count()) : std::string("none");
  };
  for (bool affinity : {false, true})
    for (auto mode : {Unavailable::queue, Unavailable::rehash, Unavailable::reject}) {
      CHECK(takeover(ready, affinity, mode) == "none");  // its worker accepts
      // A slot that will not come back soon gives its clients up at once, whatever the mode.
      CHECK(takeover(failing, affinity, mode) == "failing after 0");
      // round_robin never waits for a slot (nor does it under master dispatch).
      if (!affinity) CHECK(takeover(down, affinity, mode) == "no_affinity after 0");
    }
  // ip_hash with a worker restarting: its clients wait in the kernel for the replacement,
  // up to queue.timeout; elsewhere at once with rehash, 503 at once with reject.
  CHECK(takeover(down, true, Unavailable::queue) == "queue_timeout after 30000");
  CHECK(takeover(down, true, Unavailable::rehash) == "rehash after 0");
  CHECK(takeover(down, true, Unavailable::reject) == "reject after 0");
}

}  // namespace handoff
