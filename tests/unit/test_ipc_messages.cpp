#include <doctest/doctest.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "protocols/ipc_messages.h"

namespace ipc = handoff::ipc;

namespace {
ipc::Message round_trip(const ipc::Message& m) {
  const std::string line = ipc::encode(m);
  REQUIRE(!line.empty());
  REQUIRE(line.back() == '\n');
  REQUIRE(line.find('\n') == line.size() - 1);  // one line, whatever the content
  auto decoded = ipc::decode(std::string_view(line).substr(0, line.size() - 1));
  REQUIRE(std::holds_alternative<ipc::Message>(decoded));
  return std::get<ipc::Message>(decoded);
}
}  // namespace

TEST_CASE("every message survives a round trip") {
  auto h = std::get<ipc::Handle>(round_trip(ipc::Handle{{42, "::1", 50000, "web", std::string("GET / HTTP/1.1\r\n\0\xff", 18)}}));
  CHECK(h.conn.id == 42);
  CHECK(h.conn.remote_address == "::1");
  CHECK(h.conn.remote_port == 50000);
  CHECK(h.conn.listener == "web");
  CHECK(h.conn.head == std::string("GET / HTTP/1.1\r\n\0\xff", 18));  // any bytes, base64 on the wire
  ipc::Handback back{9, "10.0.0.1", 4000, "web", "GET /2/x HTTP/1.1\r\n\r\n"};
  auto b = std::get<ipc::Handback>(round_trip(back));
  CHECK(b.id == 9);
  CHECK(b.remote_address == "10.0.0.1");
  CHECK(b.remote_port == 4000);
  CHECK(b.listener == "web");
  CHECK(b.head == back.head);
  CHECK(std::holds_alternative<ipc::HandleAck>(round_trip(ipc::HandleAck{})));
  CHECK(std::holds_alternative<ipc::HandleNack>(round_trip(ipc::HandleNack{})));
  auto hello = std::get<ipc::Hello>(round_trip(ipc::Hello{"cpp", 1, 1234}));
  CHECK(hello.sdk == "cpp");
  CHECK(hello.pid == 1234);
  auto w = std::get<ipc::Welcome>(round_trip(ipc::Welcome{"chat", 3, 4, 7, 1500, ipc::RouteCheck{handoff::KeySource::url_segment, 2, true, "", false, {"/chat/"}, {"/api/"}}}));
  CHECK(w.heartbeat_ms == 1500);
  CHECK(w.route == ipc::RouteCheck{handoff::KeySource::url_segment, 2, true, "", false, {"/chat/"}, {"/api/"}});
  CHECK(std::get<ipc::Welcome>(round_trip(ipc::Welcome{"a", 1, 1, 1, 0, {}})).route.rule == handoff::KeySource::none);
  auto st = std::get<ipc::Stats>(round_trip(ipc::Stats{.requests = 10, .connections = 2, .bytes = 4096, .rss = 1u << 30}));
  CHECK(st.requests == 10);
  CHECK(st.connections == 2);
  CHECK(st.bytes == 4096);
  CHECK(st.rss == (1u << 30));
  CHECK(std::get<ipc::Drain>(round_trip(ipc::Drain{2500})).timeout_ms == 2500);
  CHECK(!std::get<ipc::Drain>(round_trip(ipc::Drain{2500})).handback);
  CHECK(std::get<ipc::Drain>(round_trip(ipc::Drain{2500, true})).handback);
  CHECK(w.app == "chat");
  CHECK(w.slot == 3);
  CHECK(w.workers == 4);
  CHECK(w.generation == 7);
  CHECK(std::holds_alternative<ipc::Ready>(round_trip(ipc::Ready{})));
}

TEST_CASE("handle messages have exactly Node's shape") {
  const std::string line = ipc::encode(ipc::Handle{{1, "127.0.0.1", 80, "l", {}}});
  CHECK(line.find("\"cmd\":\"NODE_HANDLE\"") != std::string::npos);
  CHECK(line.find("\"type\":\"net.Socket\"") != std::string::npos);
  CHECK(line.find("\"msg\":{") != std::string::npos);
  CHECK(ipc::encode(ipc::HandleAck{}) == "{\"cmd\":\"NODE_HANDLE_ACK\"}\n");
}

TEST_CASE("a handle line is one JSON line whatever its strings hold") {
  // The NODE_HANDLE line is written by hand (the hot path); names that need escaping, and
  // invalid UTF-8, must still give one valid line that decodes to the same connection.
  for (const std::string listener : {"web", "quote\"back\\slash", "tab\tnew\nline", "caf\xc3\xa9", "bad\xff"}) {
    CAPTURE(listener);
    const std::string line = ipc::encode(ipc::Handback{7, "::ffff:10.0.0.1", 65535, listener, "GET /"});
    REQUIRE(line.back() == '\n');
    CHECK(std::count(line.begin(), line.end(), '\n') == 1);
    const auto decoded = ipc::decode(std::string_view(line).substr(0, line.size() - 1));
    REQUIRE(std::holds_alternative<ipc::Message>(decoded));
    const auto& b = std::get<ipc::Handback>(std::get<ipc::Message>(decoded));
    CHECK(b.id == 7);
    CHECK(b.remote_address == "::ffff:10.0.0.1");
    CHECK(b.remote_port == 65535);
    CHECK(b.head == "GET /");
    if (listener != "bad\xff") CHECK(b.listener == listener);
  }
}

TEST_CASE("encode_conn writes encode(Handle)'s line, and finds a character to escape wherever it is") {
  // The plain-JSON check reads eight bytes at a time and then the rest one by one: every
  // character that needs escaping (or is not ASCII), at every position of a 21-byte name.
  const ipc::Conn plain{42, "127.0.0.1", 5000, "web-listener-01", "GET /"};
  CHECK(ipc::encode_conn({.id = plain.id, .remote_address = plain.remote_address, .remote_port = plain.remote_port,
                          .listener = plain.listener, .head = plain.head}) == ipc::encode(ipc::Handle{plain}));
  CHECK(ipc::encode(ipc::Handle{plain}).find(R"("listener":"web-listener-01")") != std::string::npos);
  for (const char bad : {'\x01', '\x1f', '"', '\\', '\x7f', '\x80', '\xff'}) {
    for (std::size_t at = 0; at < 21; ++at) {
      std::string listener(21, 'a');
      listener[at] = bad;
      CAPTURE(static_cast<int>(static_cast<unsigned char>(bad)));
      CAPTURE(at);
      const ipc::Conn conn{1, "10.0.0.1", 1, listener, {}};
      const std::string line =
          ipc::encode_conn({.id = 1, .remote_address = conn.remote_address, .remote_port = 1, .listener = listener, .head = {}});
      CHECK(line == ipc::encode(ipc::Handle{conn}));
      CHECK(std::count(line.begin(), line.end(), '\n') == 1);
      const auto decoded = ipc::decode(std::string_view(line).substr(0, line.size() - 1));
      REQUIRE(std::holds_alternative<ipc::Message>(decoded));
      // Not ASCII alone is invalid UTF-8: replaced, the line stays valid.
      if (static_cast<unsigned char>(bad) < 0x80)
        CHECK(std::get<ipc::Handle>(std::get<ipc::Message>(decoded)).conn.listener == listener);
    }
  }
}

TEST_CASE("encode_conn into reused storage writes the same lines, long after short and short after long") {
  std::string storage;
  const std::string long_head(5000, 'x');
  for (const std::string& head : {std::string(), long_head, std::string("GET /"), std::string()}) {
    const ipc::Conn conn{7, "::ffff:10.0.0.1", 65535, "web", head};
    const ipc::ConnView view{.id = conn.id, .remote_address = conn.remote_address, .remote_port = conn.remote_port,
                             .listener = conn.listener, .head = conn.head};
    CHECK(ipc::encode_conn(view, storage) == ipc::encode(ipc::Handle{conn}));
    // Checked once by the caller (plain): the same line without the check.
    CHECK(ipc::plain_json_text(view.listener));
    ipc::ConnView plain = view;
    plain.plain = true;
    CHECK(ipc::encode_conn(plain, storage) == ipc::encode(ipc::Handle{conn}));
  }
  CHECK(!ipc::plain_json_text("a\"b"));
  CHECK(!ipc::plain_json_text("caf\xc3\xa9"));
}

TEST_CASE("a handle line has room for the largest numbers and any head length") {
  // The line is written into a buffer sized in advance: the widest id and port, and heads
  // of every length modulo 3 (base64's padding), up to a 64 KiB head.
  for (const std::size_t head_size : {0u, 1u, 2u, 3u, 4u, 5u, 100u, 65536u}) {
    CAPTURE(head_size);
    std::string head(head_size, '\0');
    for (std::size_t i = 0; i < head_size; ++i) head[i] = static_cast<char>(i * 7);
    const ipc::Handle sent{{UINT64_MAX, "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255", INT32_MIN, "listener", head}};
    const std::string line = ipc::encode(sent);
    REQUIRE(line.back() == '\n');
    const auto decoded = ipc::decode(std::string_view(line).substr(0, line.size() - 1));
    REQUIRE(std::holds_alternative<ipc::Message>(decoded));
    const auto& got = std::get<ipc::Handle>(std::get<ipc::Message>(decoded)).conn;
    CHECK(got.id == UINT64_MAX);
    CHECK(got.remote_address == sent.conn.remote_address);
    CHECK(got.remote_port == INT32_MIN);
    CHECK(got.head == head);
  }
}

TEST_CASE("what Node itself sends decodes") {
  // Node's ACK and a handle message as child_process writes it, with its optional key.
  CHECK(std::holds_alternative<ipc::HandleAck>(std::get<ipc::Message>(ipc::decode("{\"cmd\":\"NODE_HANDLE_ACK\"}"))));
  auto m = ipc::decode(
      "{\"cmd\":\"NODE_HANDLE\",\"type\":\"net.Socket\",\"msg\":{\"handoff\":\"conn\",\"v\":1,\"id\":9},\"key\":\"k\"}");
  CHECK(std::get<ipc::Handle>(std::get<ipc::Message>(m)).conn.id == 9);
}

TEST_CASE("malformed input is an error, never a crash") {
  for (const char* bad : {"", "{", "not json", "[1,2]", "\"str\"", "{\"handoff\":\"hello\"}",
                          "{\"handoff\":\"welcome\",\"app\":1}", "{\"cmd\":\"NODE_HANDLE\",\"type\":\"net.Server\"}",
                          "{\"cmd\":\"NODE_HANDLE\",\"type\":\"net.Socket\",\"msg\":{\"id\":\"x\"}}", "\xff\xfe"}) {
    CAPTURE(bad);
    CHECK(std::holds_alternative<ipc::DecodeError>(ipc::decode(bad)));
  }
}

TEST_CASE("unknown messages decode as Unknown and are ignorable") {
  auto a = ipc::decode("{\"handoff\":\"from_the_future\",\"v\":9}");
  CHECK(std::get<ipc::Unknown>(std::get<ipc::Message>(a)).what == "from_the_future");
  auto b = ipc::decode("{\"cmd\":\"NODE_SOMETHING_ELSE\"}");
  CHECK(std::holds_alternative<ipc::Unknown>(std::get<ipc::Message>(b)));
  auto c = ipc::decode("{\"app\":\"message of the app's own\"}");
  CHECK(std::holds_alternative<ipc::Unknown>(std::get<ipc::Message>(c)));
}

TEST_CASE("invalid UTF-8 in a field is replaced, so the line stays valid JSON") {
  const std::string line = ipc::encode(ipc::Hello{"bad\xff", 1, 1});
  CHECK(std::holds_alternative<ipc::Message>(ipc::decode(std::string_view(line).substr(0, line.size() - 1))));
}

TEST_CASE("route: the app's slot count and rule after a reload or a scale; no rule, no `route`") {
  const ipc::RouteCheck rule{handoff::KeySource::header, 1, false, "x-room", true, {"/chat/"}, {"/api/"}};
  const auto full = std::get<ipc::Route>(round_trip(ipc::Route{.workers = 4, .route = rule}));
  CHECK(full.workers == 4);
  CHECK(full.route == rule);
  const std::string line = ipc::encode(ipc::Route{.workers = 4, .route = rule});
  CHECK(line.starts_with(R"({"handoff":"route")"));
  CHECK(line.find(R"("workers":4)") != std::string::npos);
  CHECK(line.find(R"("route":{)") != std::string::npos);
  CHECK(line.find(R"("name":"x-room")") != std::string::npos);
  // round_robin after a reload: the message says so by having no `route` (as welcome).
  const std::string none = ipc::encode(ipc::Route{.workers = 2, .route = {}});
  CHECK(none.find(R"("route":)") == std::string::npos);
  const auto cleared = std::get<ipc::Route>(round_trip(ipc::Route{.workers = 2, .route = {}}));
  CHECK(cleared.workers == 2);
  CHECK(cleared.route == ipc::RouteCheck{});
  // Prefixes alone (round_robin apps sharing a port) still travel.
  ipc::RouteCheck prefixes_only;
  prefixes_only.prefixes = {"/a/"};
  prefixes_only.foreign = {"/b/"};
  CHECK(std::get<ipc::Route>(round_trip(ipc::Route{.workers = 2, .route = prefixes_only})).route == prefixes_only);
  CHECK(ipc::name_of(ipc::Message{ipc::Route{}}) == "route");
  // `workers` is required: a worker must not guess the slot count its keys map onto.
  CHECK(std::holds_alternative<ipc::DecodeError>(ipc::decode(R"({"handoff":"route","v":1})")));
  CHECK(std::holds_alternative<ipc::DecodeError>(ipc::decode(R"({"handoff":"route","v":1,"workers":"2"})")));
}

TEST_CASE("protocols/README.md documents every message of the catalogue") {
  std::ifstream in(std::string(HANDOFF_SOURCE_DIR) + "/protocols/README.md");
  REQUIRE(in);
  std::stringstream text;
  text << in.rdbuf();
  for (const auto& entry : ipc::kCatalogue) {
    CAPTURE(entry.name);
    CHECK(text.str().find("`" + std::string(entry.name) + "`") != std::string::npos);
  }
}

TEST_CASE("welcome carries the app's http settings, all six or none") {
  const ipc::HttpSettings http{.keep_alive_timeout_ms = 5000,
                               .headers_timeout_ms = 60000,
                               .request_timeout_ms = 300000,
                               .max_requests_per_socket = 100,
                               .max_header_size = 65536,
                               .max_body_size = 1ull << 34};
  ipc::Welcome sent{.app = "chat", .slot = 1, .workers = 2, .generation = 3, .heartbeat_ms = 1000, .http = http};
  const std::string line = ipc::encode(sent);
  CHECK(line.find("\"http\":{") != std::string::npos);
  CHECK(line.find("\"keep_alive_timeout_ms\":5000") != std::string::npos);
  auto got = std::get<ipc::Welcome>(std::get<ipc::Message>(ipc::decode(line.substr(0, line.size() - 1))));
  REQUIRE(got.http.has_value());
  CHECK(*got.http == http);

  // Without it (an older master): nothing to apply.
  CHECK_FALSE(std::get<ipc::Welcome>(round_trip(ipc::Welcome{.app = "chat", .slot = 1, .workers = 1, .generation = 1}))
                  .http.has_value());

  // Half an http object, or a mistyped one, is a malformed message, not half-applied settings.
  const std::string head = R"({"handoff":"welcome","v":1,"app":"a","slot":1,"workers":1,"generation":1,"http":)";
  CHECK(std::holds_alternative<ipc::DecodeError>(ipc::decode(head + R"({"keep_alive_timeout_ms":5000}})")));
  CHECK(std::holds_alternative<ipc::DecodeError>(ipc::decode(head + R"(5})")));
  CHECK(std::holds_alternative<ipc::DecodeError>(ipc::decode(
      head + R"({"keep_alive_timeout_ms":-1,"headers_timeout_ms":1,"request_timeout_ms":1,)"
             R"("max_requests_per_socket":0,"max_header_size":1,"max_body_size":1}})")));
}

TEST_CASE("drain: `handback` only when set, so an older worker sees the drain it knows") {
  CHECK(ipc::encode(ipc::Drain{100}).find("handback") == std::string::npos);
  CHECK(ipc::encode(ipc::Drain{100, true}).find("\"handback\":true") != std::string::npos);
  CHECK(!std::get<ipc::Drain>(std::get<ipc::Message>(ipc::decode(R"({"handoff":"drain","v":1,"timeout_ms":5})"))).handback);
  CHECK(std::holds_alternative<ipc::DecodeError>(ipc::decode(R"({"handoff":"drain","v":1,"handback":"yes"})")));
}

TEST_CASE("welcome carries the drain's numbers; an older master's welcome has none") {
  const handoff::DrainRules rules{.deadline_margin_ms = 250, .deadline_margin_divisor = 4, .idle_grace_ms = 300};
  ipc::Welcome sent{.app = "chat", .slot = 1, .workers = 2, .generation = 3, .drain = rules};
  const std::string line = ipc::encode(sent);
  CHECK(line.find(R"("drain":{"deadline_margin_divisor":4,"deadline_margin_ms":250,"idle_grace_ms":300})") !=
        std::string::npos);
  auto got = std::get<ipc::Welcome>(round_trip(sent));
  REQUIRE(got.drain.has_value());
  CHECK(*got.drain == rules);
  CHECK(std::get<ipc::Welcome>(round_trip(ipc::Welcome{.app = "chat", .slot = 1, .workers = 1, .generation = 1}))
            .drain == std::nullopt);

  // All three or a malformed message; no number below what the machine can use.
  const std::string head = R"({"handoff":"welcome","v":1,"app":"a","slot":1,"workers":1,"generation":1,"drain":)";
  CHECK(std::holds_alternative<ipc::DecodeError>(ipc::decode(head + R"({"idle_grace_ms":100}})")));
  CHECK(std::holds_alternative<ipc::DecodeError>(ipc::decode(head + R"(7})")));
  CHECK(std::holds_alternative<ipc::DecodeError>(
      ipc::decode(head + R"({"deadline_margin_ms":100,"deadline_margin_divisor":0,"idle_grace_ms":100}})")));
  CHECK(std::holds_alternative<ipc::Message>(
      ipc::decode(head + R"({"deadline_margin_ms":100,"deadline_margin_divisor":10,"idle_grace_ms":100}})")));
}

TEST_CASE("the http settings: one entry per field, and the fixture the Node SDK is checked against says the same") {
  std::ifstream in(std::string(HANDOFF_SOURCE_DIR) + "/tests/fixtures/http-settings.json");
  REQUIRE(in);
  const auto fixture = nlohmann::json::parse(in).at("settings");
  REQUIRE(fixture.size() == handoff::kHttpSettings.size());
  for (std::size_t i = 0; i < handoff::kHttpSettings.size(); ++i) {
    const auto& s = handoff::kHttpSettings[i];
    CAPTURE(s.config);
    CHECK(fixture[i].at("config").get<std::string>() == s.config);
    CHECK(fixture[i].at("wire").get<std::string>() == s.wire);
    CHECK(fixture[i].at("unit").get<std::string>() == handoff::to_string(s.unit));
    CHECK(&handoff::http_setting(s.field) == &s);  // each field once
  }
  // Every field of the struct is in the table: a struct of six std::uint64_t.
  static_assert(sizeof(ipc::HttpSettings) == handoff::kHttpSettings.size() * sizeof(std::uint64_t));
  // The wire carries exactly the table's names.
  const auto line = ipc::encode(ipc::Welcome{.app = "a", .slot = 1, .workers = 1, .generation = 1, .http = ipc::HttpSettings{}});
  const auto http = nlohmann::json::parse(line).at("http");
  CHECK(http.size() == handoff::kHttpSettings.size());
  for (const auto& s : handoff::kHttpSettings) CHECK(http.contains(s.wire));
}

TEST_CASE("metrics and metrics_text: the scrape's id and the registry's text; hello's `metrics` only when set") {
  CHECK(std::get<ipc::Metrics>(round_trip(ipc::Metrics{7})).id == 7);
  const std::string text = "# TYPE x counter\nx{a=\"\\\"q\\\"\"} 1\n";
  auto t = std::get<ipc::MetricsText>(round_trip(ipc::MetricsText{9, text, true}));
  CHECK(t.id == 9);
  CHECK(t.text == text);
  CHECK(t.sum);
  CHECK(ipc::encode(ipc::MetricsText{1, "", false}).find("sum") == std::string::npos);
  CHECK(ipc::encode(ipc::Hello{"node", 1, 5, false}).find("metrics") == std::string::npos);
  CHECK(std::get<ipc::Hello>(round_trip(ipc::Hello{"node", 1, 5, true})).metrics);
  // window: absent is 1 (Node's receiver); more than the master keeps in flight is the most.
  CHECK(ipc::encode(ipc::Hello{"node", 1, 5}).find("window") == std::string::npos);
  CHECK(std::get<ipc::Hello>(round_trip(ipc::Hello{.sdk = "cpp", .window = 8})).window == 8);
  CHECK(std::get<ipc::Hello>(std::get<ipc::Message>(ipc::decode(R"({"handoff":"hello","sdk":"cpp","v":1,"window":1000})"))).window ==
        ipc::kMaxHandleWindow);
  CHECK(std::holds_alternative<ipc::DecodeError>(ipc::decode(R"({"handoff":"hello","sdk":"cpp","v":1,"window":0})")));
  CHECK(std::holds_alternative<ipc::DecodeError>(ipc::decode(R"({"handoff":"metrics_text","v":1,"id":1})")));
  CHECK(std::holds_alternative<ipc::DecodeError>(ipc::decode(R"({"handoff":"hello","v":1,"sdk":"x","metrics":1})")));
}

TEST_CASE("listen: the slot's listening socket travels as Node's net.Server handle") {
  const std::string line = ipc::encode(ipc::Listen{.listener = "web", .backlog = 511});
  CHECK(line ==
        R"({"cmd":"NODE_HANDLE","msg":{"backlog":511,"handoff":"listen","listener":"web","v":1},"type":"net.Server"})"
        "\n");
  auto l = std::get<ipc::Listen>(round_trip(ipc::Listen{.listener = "api", .backlog = 128}));
  CHECK(l.listener == "api");
  CHECK(l.backlog == 128);
  // A net.Server that is not ours to accept from is no message we know.
  CHECK(std::holds_alternative<ipc::DecodeError>(
      ipc::decode(R"({"cmd":"NODE_HANDLE","type":"net.Server","msg":{"handoff":"conn","v":1,"id":1}})")));
  CHECK(ipc::name_of(ipc::Listen{}) == "listen");
}

TEST_CASE("cache_put and cache_pass: a response with its key, base64 body, ttl only when set; conn's fill and welcome's cache") {
  ipc::CachePut put{.host = "example.test", .target = "/cached?x=\"1\"", .accept_encoding = "gzip, br", .ttl = 60,
                    .status = 200, .headers = {{"Content-Type", "text/plain"}, {"Vary", "Accept-Encoding"}},
                    .body = std::string("hi\0\xff", 4)};
  auto p = std::get<ipc::CachePut>(round_trip(put));
  CHECK(p.host == put.host);
  CHECK(p.target == put.target);
  CHECK(p.accept_encoding == put.accept_encoding);
  CHECK(p.ttl == 60);
  CHECK(p.status == 200);
  CHECK(p.headers == put.headers);
  CHECK(p.body == put.body);
  put.ttl.reset();
  put.accept_encoding.clear();
  const auto line = ipc::encode(put);
  CHECK(line.find("ttl") == std::string::npos);
  CHECK(line.find("accept_encoding") == std::string::npos);
  // A JavaScript number with a fraction rounds down; a negative one is refused.
  CHECK(std::get<ipc::CachePut>(std::get<ipc::Message>(ipc::decode(
            R"({"handoff":"cache_put","v":1,"target":"/","ttl":1.5,"status":200,"headers":[],"body":""})"))).ttl == 1);
  CHECK(std::holds_alternative<ipc::DecodeError>(
      ipc::decode(R"({"handoff":"cache_put","v":1,"target":"/","ttl":-1,"status":200,"body":""})")));
  CHECK(std::holds_alternative<ipc::DecodeError>(
      ipc::decode(R"({"handoff":"cache_put","v":1,"target":"/","status":200,"headers":[["a"]],"body":""})")));
  CHECK(std::holds_alternative<ipc::DecodeError>(
      ipc::decode(R"({"handoff":"cache_put","v":1,"target":"/","status":200,"body":"!!"})")));
  auto pass = std::get<ipc::CachePass>(round_trip(ipc::CachePass{"h", "/x"}));
  CHECK(pass.host == "h");
  CHECK(pass.target == "/x");

  ipc::Conn conn{3, "127.0.0.1", 80, "web", {}};
  CHECK(ipc::encode(ipc::Handle{conn}).find("fill") == std::string::npos);
  conn.fill = true;
  CHECK(std::get<ipc::Handle>(round_trip(ipc::Handle{conn})).conn.fill);
  std::string storage;
  CHECK(ipc::encode_conn({.id = 3, .remote_address = "127.0.0.1", .remote_port = 80, .listener = "web", .head = {}, .fill = true},
                         storage) == ipc::encode(ipc::Handle{conn}));
  CHECK(ipc::encode(ipc::Welcome{.app = "a", .slot = 1, .workers = 1, .generation = 1}).find("cache") == std::string::npos);
  auto w = std::get<ipc::Welcome>(
      round_trip(ipc::Welcome{.app = "a", .slot = 1, .workers = 1, .generation = 1, .cache = ipc::CacheOffer{4096, 0, "handoff-0123-cache-4567"}}));
  REQUIRE(w.cache);
  CHECK(w.cache->max_entry == 4096);
}
