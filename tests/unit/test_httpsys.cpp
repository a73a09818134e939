// HTTP.SYS mode (listeners[].httpsys, Windows): the pure parts. The queues themselves are
// tested under wine by tests/integration/httpsys.test.js.
#include <doctest/doctest.h>

#include <fstream>
#include <sstream>
#include <variant>

#include "protocols/ipc_messages.h"
#include "supervisor/core/config_loader.h"
#include "tests/unit/support.h"
#include "supervisor/core/routing/httpsys_prefix.h"

using namespace handoff;

namespace {

std::variant<Config, ConfigErrors> parse(const std::string& text) { return parse_config(text, "web.yaml", "/base", test::parsing_host()); }

std::string errors_of(const std::string& text) {
  auto r = parse(text);
  REQUIRE(std::holds_alternative<ConfigErrors>(r));
  std::string out;
  for (const auto& e : std::get<ConfigErrors>(r)) out += e.to_string() + "\n";
  return out;
}

const std::string kApp = R"(
apps:
  - name: hello
    command: hello-cpp
    workers: 3
)";

}  // namespace

TEST_CASE("each slot binds <url><route>N/, as url_segment {index: K, direct: true} routes") {
  CHECK(httpsys_slot_prefix("http://+:8080/", "", 3) == "http://+:8080/3/");
  CHECK(httpsys_slot_prefix("http://+:8080/", "/chat/", 1) == "http://+:8080/chat/1/");
  CHECK(httpsys_slot_prefix("http://+:8080/", "/chat", 12) == "http://+:8080/chat/12/");
  CHECK(httpsys_slot_prefix("http://localhost:80/api/", "", 2) == "http://localhost:80/api/2/");
  CHECK(httpsys_slot_segment("http://+:8080/", "") == 1);
  CHECK(httpsys_slot_segment("http://+:8080/", "/chat/") == 2);
  CHECK(httpsys_slot_segment("http://+:8080/api/", "/chat/") == 3);
}

TEST_CASE("an httpsys URL is http://host:port/...") {
  CHECK_FALSE(httpsys_url_problem("http://+:8080/").has_value());
  CHECK_FALSE(httpsys_url_problem("http://*:80/app/").has_value());
  CHECK_FALSE(httpsys_url_problem("http://localhost:8080/").has_value());
  CHECK(httpsys_url_problem("https://+:443/")->find("HTTPS") != std::string::npos);
  CHECK(httpsys_url_problem("http://+:8080")->find("ends with '/'") != std::string::npos);
  CHECK(httpsys_url_problem("http://+/")->find("port") != std::string::npos);
  CHECK(httpsys_url_problem("http://+:0/")->find("port") != std::string::npos);
  CHECK(httpsys_url_problem("127.0.0.1:8080")->find("http://+:8080/") != std::string::npos);
}

TEST_CASE("an app on an httpsys listener routes by the slot in the URL") {
  auto r = parse("listeners:\n  - {name: web, httpsys: \"http://+:8080/\"}\n" + kApp);
  REQUIRE(std::holds_alternative<Config>(r));
  const auto& config = std::get<Config>(r);
  CHECK(config.listeners[0].is_httpsys());
  CHECK(config.listeners[0].httpsys_where.line == 2);
  const auto& app = config.apps[0];
  CHECK(app.httpsys == "http://+:8080/");
  // The same rule for its socket listeners: one URL, one slot, on both kinds.
  CHECK(app.policy.name == "url_segment");
  CHECK(app.policy.index == 1);
  CHECK(app.policy.direct);

  // With a route, the slot is the segment after it; written out, the rule is accepted.
  auto routed = parse(R"(listeners:
  - {name: web, httpsys: "http://+:8080/"}
apps:
  - name: chat
    command: hello-cpp
    routes: ["/chat/"]
    policy: {url_segment: {index: 2, direct: true}}
)");
  REQUIRE(std::holds_alternative<Config>(routed));
  CHECK(std::get<Config>(routed).apps[0].policy.index == 2);
}

TEST_CASE("httpsys listeners: what HTTP.SYS cannot honour is a located config error") {
  // Exclusive with the socket's keys.
  auto both = errors_of("listeners:\n  - {name: web, httpsys: \"http://+:8080/\", address: 127.0.0.1:8080}\n" + kApp);
  CHECK(both.find("web.yaml:2:") != std::string::npos);
  CHECK(both.find("listeners[0].address: a listener has either `address` (a socket) or `httpsys`") != std::string::npos);
  auto backlog = errors_of("listeners:\n  - name: web\n    httpsys: \"http://+:8080/\"\n    backlog: 10\n" + kApp);
  CHECK(backlog.find("web.yaml:4:14: listeners[0].backlog: `backlog` is for socket listeners") != std::string::npos);
  auto proxy = errors_of("listeners:\n  - name: web\n    httpsys: \"http://+:8080/\"\n    proxy_protocol: true\n" + kApp);
  CHECK(proxy.find("listeners[0].proxy_protocol:") != std::string::npos);
  auto neither = errors_of("listeners:\n  - name: web\n" + kApp);
  CHECK(neither.find("missing required key 'address' (or 'httpsys'") != std::string::npos);
  auto bad = errors_of("listeners:\n  - {name: web, httpsys: \"https://+:443/\"}\n" + kApp);
  CHECK(bad.find("listeners[0].httpsys: HTTPS needs a certificate") != std::string::npos);

  // Rules other than the slot in the URL.
  auto hash = errors_of("listeners:\n  - {name: web, httpsys: \"http://+:8080/\"}\n" + kApp + "    policy: ip_hash\n");
  CHECK(hash.find("web.yaml:8:13: apps[0].policy: app \"hello\" serves the HTTP.SYS listener \"web\"") !=
        std::string::npos);
  CHECK(hash.find("`url_segment: {index: 1, direct: true}`") != std::string::npos);
  auto segment = errors_of("listeners:\n  - {name: web, httpsys: \"http://+:8080/\"}\n" + kApp +
                           "    policy: {url_segment: {index: 2, direct: true}}\n");
  CHECK(segment.find("apps[0].policy:") != std::string::npos);
  auto reject = errors_of("listeners:\n  - {name: web, httpsys: \"http://+:8080/\"}\n" + kApp +
                          "    on_unavailable: reject\n");
  CHECK(reject.find("apps[0].on_unavailable:") != std::string::npos);
  auto missing = errors_of("listeners:\n  - {name: web, httpsys: \"http://+:8080/\"}\n" + kApp +
                           "    missing_key: round_robin\n");
  CHECK(missing.find("apps[0].missing_key:") != std::string::npos);
  auto routes = errors_of("listeners:\n  - {name: web, httpsys: \"http://+:8080/\"}\n" + kApp +
                          "    routes: [\"/a/\", \"/b/\"]\n");
  CHECK(routes.find("apps[0].routes:") != std::string::npos);
}

TEST_CASE("welcome.httpsys: the queue handle and its prefix, or nothing") {
  ipc::Welcome sent{.app = "web", .slot = 2, .workers = 3, .generation = 1};
  sent.httpsys = ipc::HttpSys{.queue = 0x1a4, .prefix = "http://+:8080/2/"};
  const std::string line = ipc::encode(sent);
  CHECK(line.find(R"("httpsys":{"prefix":"http://+:8080/2/","queue":420})") != std::string::npos);
  auto got = std::get<ipc::Welcome>(std::get<ipc::Message>(ipc::decode(line.substr(0, line.size() - 1))));
  REQUIRE(got.httpsys.has_value());
  CHECK(*got.httpsys == *sent.httpsys);

  sent.httpsys.reset();
  const std::string plain = ipc::encode(sent);
  CHECK(plain.find("httpsys") == std::string::npos);
  CHECK_FALSE(std::get<ipc::Welcome>(std::get<ipc::Message>(ipc::decode(plain.substr(0, plain.size() - 1))))
                  .httpsys.has_value());

  const std::string head = R"({"handoff":"welcome","v":1,"app":"a","slot":1,"workers":1,"generation":1,"httpsys":)";
  CHECK(std::holds_alternative<ipc::DecodeError>(ipc::decode(head + R"({"queue":12}})")));
  CHECK(std::holds_alternative<ipc::DecodeError>(ipc::decode(head + R"("12"})")));

  // protocols/README.md documents the field.
  std::ifstream in(std::string(HANDOFF_SOURCE_DIR) + "/protocols/README.md");
  std::stringstream readme;
  readme << in.rdbuf();
  CHECK(readme.str().find("`httpsys` (optional)") != std::string::npos);
}

TEST_CASE("httpsys listeners: `cache` is HTTP.SYS's kernel cache, where only default_ttl applies") {
  const std::string listener = "listeners:\n  - {name: web, httpsys: \"http://+:8080/\"}\n";
  auto r = parse(listener + kApp + "    cache: {}\n");
  REQUIRE(std::holds_alternative<Config>(r));
  CHECK(std::get<Config>(r).apps[0].cache.enabled);
  r = parse(listener + kApp + "    cache:\n");
  REQUIRE(std::holds_alternative<Config>(r));
  CHECK(std::get<Config>(r).apps[0].cache.enabled);
  r = parse(listener + kApp + "    cache: {default_ttl: 5s}\n");
  REQUIRE(std::holds_alternative<Config>(r));
  const AppConfig& app = std::get<Config>(r).apps[0];
  CHECK(app.cache.default_ttl == std::chrono::seconds(5));

  // The master's own settings act on nothing there: each one written is a located error.
  const auto errors = errors_of(listener + kApp +
                                "    cache:\n      max_size: 1GiB\n      max_entry: 1MiB\n      lock_timeout: 1s\n"
                                "      pass_ttl: 1s\n      stale_while_revalidate: 1s\n      default_ttl: 1s\n");
  CHECK(errors.find("web.yaml:9:17: apps[0].cache.max_size: app \"hello\" serves an HTTP.SYS listener, where `cache` "
                    "is HTTP.SYS's kernel cache and only `default_ttl` applies: HTTP.SYS sizes its cache itself (the "
                    "registry's UriMaxCacheMegabyteCount); remove `max_size`") != std::string::npos);
  CHECK(errors.find("web.yaml:10:18: apps[0].cache.max_entry:") != std::string::npos);
  CHECK(errors.find("UriMaxUriBytes") != std::string::npos);
  CHECK(errors.find("web.yaml:11:21: apps[0].cache.lock_timeout:") != std::string::npos);
  CHECK(errors.find("web.yaml:12:17: apps[0].cache.pass_ttl:") != std::string::npos);
  CHECK(errors.find("web.yaml:13:31: apps[0].cache.stale_while_revalidate:") != std::string::npos);
  CHECK(errors.find("default_ttl:") == std::string::npos);

  // An app on both kinds of listener would have two caches of different rules: refused.
  const auto mixed = errors_of("listeners:\n  - {name: web, httpsys: \"http://+:8080/\"}\n"
                               "  - {name: plain, address: 127.0.0.1:8081}\n" + kApp + "    cache: {}\n");
  CHECK(mixed.find("web.yaml:9:12: apps[0].cache: app \"hello\" serves both an HTTP.SYS listener and the socket "
                   "listener \"plain\"") != std::string::npos);

  // The offer carries default_ttl to HTTP.SYS workers (they decide the lifetime there), and
  // a change of it gives the app new workers; on a socket listener it does neither.
  auto before = std::get<Config>(parse(listener + kApp + "    cache: {default_ttl: 5s}\n")).apps[0];
  auto after = before;
  after.cache.default_ttl = std::chrono::seconds(6);
  CHECK_FALSE(after.same_workers_as(before));
  before.httpsys.clear();
  after.httpsys.clear();
  CHECK(after.same_workers_as(before));
}

TEST_CASE("welcome.cache: default_ttl_ms only when set") {
  ipc::Welcome sent{.app = "web", .slot = 2, .workers = 3, .generation = 1};
  sent.cache = ipc::CacheOffer{.max_entry = 4096, .default_ttl_ms = 0, .table = {}};
  std::string line = ipc::encode(sent);
  CHECK(line.find(R"("cache":{"max_entry":4096})") != std::string::npos);
  sent.cache->default_ttl_ms = 2500;
  line = ipc::encode(sent);
  CHECK(line.find(R"("cache":{"default_ttl_ms":2500,"max_entry":4096})") != std::string::npos);
  auto got = std::get<ipc::Welcome>(std::get<ipc::Message>(ipc::decode(line.substr(0, line.size() - 1))));
  REQUIRE(got.cache.has_value());
  CHECK(*got.cache == *sent.cache);
  const std::string head = R"({"handoff":"welcome","v":1,"app":"a","slot":1,"workers":1,"generation":1,"cache":)";
  CHECK(std::holds_alternative<ipc::DecodeError>(ipc::decode(head + R"({"max_entry":1,"default_ttl_ms":"5"}})")));
}
