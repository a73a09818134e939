#include "protocols/ipc_messages.h"

#include "protocols/base64.h"
#include "protocols/overloaded.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstring>

namespace handoff::ipc {

using nlohmann::json;

namespace {

json tagged(std::string_view tag) { return json{{"handoff", tag}, {"v", kVersion}}; }

// Whether `s` can go into a JSON string as it is: printable ASCII, no quote or backslash
// (addresses, listener names, base64). The hand-off path checks the address and the
// listener's name of every connection (callgrind): eight bytes at a time, then one table
// look-up per remaining character.
constexpr auto kPlainJson = [] {
  std::array<bool, 256> plain{};
  for (int c = 0x20; c < 0x7f; ++c) plain[static_cast<std::size_t>(c)] = c != '"' && c != '\\';
  return plain;
}();
bool plain_json(std::string_view s) {
  constexpr std::uint64_t ones = 0x0101010101010101u, highs = 0x8080808080808080u;
  // Non-zero exactly when some byte of v is 0 (and, below, when some byte is below n).
  const auto zero_byte = [](std::uint64_t v) { return (v - ones) & ~v & highs; };
  std::size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    std::uint64_t w;
    std::memcpy(&w, s.data() + i, 8);
    const std::uint64_t below_space = (w - ones * 0x20) & ~w & highs;
    if (below_space | (w & highs) | zero_byte(w ^ (ones * 0x7f)) | zero_byte(w ^ (ones * '"')) |
        zero_byte(w ^ (ones * '\\')))
      return false;
  }
  bool plain = true;
  for (; i < s.size(); ++i) plain &= kPlainJson[static_cast<unsigned char>(s[i])];
  return plain;
}

// `s` as a JSON string with its quotes: `s` itself when plain (the quotes are the
// writer's), otherwise escaped through nlohmann into `scratch` (which also replaces
// invalid UTF-8).
struct JsonString {
  std::string_view text;
  bool quoted;  // text already carries its quotes
};
JsonString json_string(std::string_view s, std::string& scratch) {
  if (plain_json(s)) return {s, false};
  scratch = json(std::string(s)).dump(-1, ' ', false, json::error_handler_t::replace);
  return {scratch, true};
}

// Writes a line of known maximum size into storage the caller owns (at least that size):
// the hand-off path's encoder, which allocates nothing once its storage has grown.
// (std::string::append per piece cost about 60 instructions each, and a string resized
// to the maximum for each line is zero-filled each time.)
class LineWriter {
 public:
  explicit LineWriter(char* start) : start_(start), at_(start) {}
  void put(std::string_view s) {
    std::memcpy(at_, s.data(), s.size());
    at_ += s.size();
  }
  void put(JsonString s) {
    if (!s.quoted) *at_++ = '"';
    put(s.text);
    if (!s.quoted) *at_++ = '"';
  }
  template <class Integer>
  void number(Integer n) {
    at_ = std::to_chars(at_, at_ + 24, n).ptr;
  }
  char* at() { return at_; }
  void skip(std::size_t n) { at_ += n; }
  std::size_t length() const { return static_cast<std::size_t>(at_ - start_); }

 private:
  char* start_;
  char* at_;
};

// The fixed start of a connection line, up to the `id` value: built once per tag.
std::string connection_line_start(std::string_view tag) {
  std::string start;
  start.append(R"({"cmd":")").append(names::kHandle).append(R"(","type":")").append(names::kSocketType);
  start.append(R"(","msg":{"handoff":")").append(tag).append(R"(","v":)").append(std::to_string(kVersion));
  start.append(R"(,"id":)");
  return start;
}

// {"cmd":"NODE_HANDLE","type":"net.Socket","msg":{...}}: the line a socket travels with,
// a `conn` (master → worker) or a `handback` (worker → master: the same fields under its
// own tag, and always the bytes read, even none). One per connection handed over, so it
// is written directly into one allocation: through a json tree it cost about 20,000
// instructions, most of the master's work per hand-off (callgrind, bench/run.sh).
const std::string kConnStart = connection_line_start(names::kConn);
const std::string kHandbackStart = connection_line_start(names::kHandback);

// `start`: kConnStart or kHandbackStart, then the fields, the strings ready for JSON.
// Written into `storage` (grown when too small, never shrunk: its size is a high-water
// mark); the line is its first bytes.
template <class Connection>
std::string_view connection_line(const std::string& start, const Connection& c, bool head_always, JsonString remote,
                                 JsonString listener, std::string& storage) {
  using namespace std::string_view_literals;
  const bool with_head = head_always || !c.head.empty();
  const std::size_t head_size = with_head ? (c.head.size() + 2) / 3 * 4 : 0;
  // The fixed parts (60 characters with `fill`), two numbers of at most 20 characters each, the
  // strings and the head (margin included).
  const std::size_t max = start.size() + 110 + remote.text.size() + listener.text.size() + head_size;
  if (storage.size() < max) storage.resize(std::max(max, std::size_t{256}));
  LineWriter out(storage.data());
  out.put(start);
  out.number(c.id);
  out.put(R"(,"remote":)"sv);
  out.put(remote);
  out.put(R"(,"port":)"sv);
  out.number(c.remote_port);
  out.put(R"(,"listener":)"sv);
  out.put(listener);
  if (with_head) {
    out.put(R"(,"head":")"sv);
    out.skip(base64_encode(c.head, out.at()));
    out.put("\""sv);
  }
  if constexpr (requires { c.fill; })
    if (c.fill) out.put(R"(,"fill":true)"sv);
  out.put("}}\n"sv);
  return {storage.data(), out.length()};
}

// The same, its strings checked for escaping unless the caller did (ConnView::plain).
template <class Connection>
std::string_view connection_line(const std::string& start, const Connection& c, bool head_always, std::string& storage) {
  bool plain = false;
  if constexpr (requires { c.plain; }) plain = c.plain;
  if (plain) return connection_line(start, c, head_always, {c.remote_address, false}, {c.listener, false}, storage);
  std::string remote_scratch, listener_scratch;
  return connection_line(start, c, head_always, json_string(c.remote_address, remote_scratch),
                         json_string(c.listener, listener_scratch), storage);
}

template <class Connection>
std::string connection_line(const std::string& start, const Connection& c, bool head_always) {
  std::string line;
  line.resize(connection_line(start, c, head_always, line).size());
  return line;
}

// A route with neither a rule nor prefixes checks nothing: it is left out (`route` absent).
bool checks_something(const RouteCheck& r) { return r.rule != KeySource::none || !r.prefixes.empty(); }

json route_to_json(const RouteCheck& r) {
  json j{{"rule", name_of(r.rule)}};
  if (r.rule == KeySource::url_segment) {
    j["index"] = r.index;
    j["direct"] = r.direct;
  }
  if (!r.name.empty()) j["name"] = r.name;
  j["missing"] = r.missing_stays ? "stay" : "handback";
  j["prefixes"] = r.prefixes;
  j["foreign"] = r.foreign;
  return j;
}

RouteCheck route_from_json(const json& j) {
  RouteCheck r;
  if (!j.is_object()) return r;
  r.rule = key_source_named(j.value("rule", ""));
  r.index = j.value("index", 1);
  r.direct = j.value("direct", false);
  r.name = j.value("name", "");
  r.missing_stays = j.value("missing", "stay") != "handback";
  for (const char* key : {"prefixes", "foreign"})
    if (auto it = j.find(key); it != j.end() && it->is_array())
      for (const auto& p : *it)
        if (p.is_string()) (key[0] == 'p' ? r.prefixes : r.foreign).push_back(p.get<std::string>());
  return r;
}

// Field readers that report what is wrong instead of throwing.
struct Reader {
  const json& object;
  std::string error;

  template <class T>
  T get(std::string_view key, bool required = true) {
    auto it = object.find(key);
    if (it == object.end()) {
      if (required && error.empty()) error = "missing field '" + std::string(key) + "'";
      return T{};
    }
    if constexpr (std::is_same_v<T, std::string>) {
      if (it->is_string()) return it->template get<std::string>();
    } else if constexpr (std::is_unsigned_v<T>) {
      if (it->is_number_unsigned()) return it->template get<T>();
    } else {
      if (it->is_number_integer()) return it->template get<T>();
    }
    if (error.empty()) error = "field '" + std::string(key) + "' has the wrong type";
    return T{};
  }
};

std::variant<Message, DecodeError> finish(Reader& r, Message m) {
  if (!r.error.empty()) return DecodeError{r.error};
  return m;
}

std::variant<Message, DecodeError> decode_ours(const json& j, const std::string& tag) {
  Reader r{j, {}};
  if (tag == names::kHello) {
    Hello h;
    h.sdk = r.get<std::string>("sdk");
    h.version = r.get<int>("v");
    h.pid = r.get<std::int64_t>("pid", false);
    if (auto it = j.find("metrics"); it != j.end()) {
      if (!it->is_boolean()) return DecodeError{"field 'metrics' has the wrong type"};
      h.metrics = it->get<bool>();
    }
    if (auto it = j.find("window"); it != j.end()) {
      if (!it->is_number_integer()) return DecodeError{"field 'window' has the wrong type"};
      const auto window = it->get<std::int64_t>();
      if (window < 1) return DecodeError{"field 'window' is below 1"};
      // A newer worker may ask for more than this master keeps in flight: it gets the most.
      h.window = static_cast<int>(std::min<std::int64_t>(window, kMaxHandleWindow));
    }
    return finish(r, h);
  }
  if (tag == names::kWelcome) {
    Welcome w;
    w.app = r.get<std::string>("app");
    w.slot = r.get<int>("slot");
    w.workers = r.get<int>("workers");
    w.generation = r.get<int>("generation");
    w.heartbeat_ms = r.get<std::int64_t>("heartbeat_ms", false);
    if (auto route = j.find("route"); route != j.end()) w.route = route_from_json(*route);
    if (auto http = j.find("http"); http != j.end()) {
      if (!http->is_object()) return DecodeError{"field 'http' has the wrong type"};
      Reader h{*http, {}};
      HttpSettings settings;
      for (const auto& s : kHttpSettings) settings.*s.field = h.get<std::uint64_t>(s.wire);
      if (!h.error.empty()) return DecodeError{"http: " + h.error};
      w.http = settings;
    }
    if (auto drain = j.find("drain"); drain != j.end()) {
      if (!drain->is_object()) return DecodeError{"field 'drain' has the wrong type"};
      Reader d{*drain, {}};
      DrainRules rules{.deadline_margin_ms = d.get<std::int64_t>("deadline_margin_ms"),
                       .deadline_margin_divisor = d.get<std::int64_t>("deadline_margin_divisor"),
                       .idle_grace_ms = d.get<std::int64_t>("idle_grace_ms")};
      if (d.error.empty() && (rules.deadline_margin_ms < 0 || rules.deadline_margin_divisor <= 0 || rules.idle_grace_ms < 0))
        d.error = "a margin or grace below 0, or a divisor below 1";
      if (!d.error.empty()) return DecodeError{"drain: " + d.error};
      w.drain = rules;
    }
    if (auto httpsys = j.find("httpsys"); httpsys != j.end()) {
      if (!httpsys->is_object()) return DecodeError{"field 'httpsys' has the wrong type"};
      Reader h{*httpsys, {}};
      w.httpsys = HttpSys{.queue = h.get<std::uint64_t>("queue"), .prefix = h.get<std::string>("prefix")};
      if (!h.error.empty()) return DecodeError{"httpsys: " + h.error};
    }
    if (auto cache = j.find("cache"); cache != j.end()) {
      if (!cache->is_object()) return DecodeError{"field 'cache' has the wrong type"};
      Reader c{*cache, {}};
      w.cache = CacheOffer{.max_entry = c.get<std::uint64_t>("max_entry"),
                           .default_ttl_ms = c.get<std::uint64_t>("default_ttl_ms", false),
                           .table = c.get<std::string>("table", false)};
      if (!c.error.empty()) return DecodeError{"cache: " + c.error};
    }
    return finish(r, w);
  }
  if (tag == names::kReady) return Ready{};
  if (tag == names::kStats) {
    Stats st;
    st.requests = r.get<std::uint64_t>("requests", false);
    st.connections = r.get<std::uint64_t>("connections", false);
    st.bytes = r.get<std::uint64_t>("bytes", false);
    st.rss = r.get<std::uint64_t>("rss", false);
    return finish(r, st);
  }
  if (tag == names::kDrain) {
    Drain d;
    d.timeout_ms = r.get<std::int64_t>("timeout_ms", false);
    if (auto it = j.find("handback"); it != j.end()) {
      if (!it->is_boolean()) return DecodeError{"field 'handback' has the wrong type"};
      d.handback = it->get<bool>();
    }
    return finish(r, d);
  }
  if (tag == names::kRoute) {
    Route rt;
    rt.workers = r.get<int>("workers");
    if (auto route = j.find("route"); route != j.end()) rt.route = route_from_json(*route);
    return finish(r, rt);
  }
  if (tag == names::kMetrics) {
    Metrics m;
    m.id = r.get<std::uint64_t>("id");
    return finish(r, m);
  }
  if (tag == names::kMetricsText) {
    MetricsText m;
    m.id = r.get<std::uint64_t>("id");
    m.text = r.get<std::string>("text");
    if (auto it = j.find("sum"); it != j.end()) {
      if (!it->is_boolean()) return DecodeError{"field 'sum' has the wrong type"};
      m.sum = it->get<bool>();
    }
    return finish(r, m);
  }
  if (tag == names::kCachePut) {
    CachePut p;
    p.host = r.get<std::string>("host", false);
    p.target = r.get<std::string>("target");
    p.accept_encoding = r.get<std::string>("accept_encoding", false);
    if (auto it = j.find("ttl"); it != j.end()) {
      if (!it->is_number()) return DecodeError{"field 'ttl' has the wrong type"};
      const double ttl = it->get<double>();  // JavaScript numbers: fractions round down
      if (!(ttl >= 0 && ttl < 1e12)) return DecodeError{"field 'ttl' is out of range"};
      p.ttl = static_cast<std::int64_t>(ttl);
    }
    p.status = r.get<int>("status");
    if (auto it = j.find("headers"); it != j.end()) {
      if (!it->is_array()) return DecodeError{"field 'headers' has the wrong type"};
      for (const auto& pair : *it) {
        if (!pair.is_array() || pair.size() != 2 || !pair[0].is_string() || !pair[1].is_string())
          return DecodeError{"field 'headers' holds something other than [name, value] strings"};
        p.headers.emplace_back(pair[0].get<std::string>(), pair[1].get<std::string>());
      }
    }
    auto body = base64_decode(r.get<std::string>("body", false));
    if (!body) return DecodeError{"field 'body' is not base64"};
    p.body = std::move(*body);
    return finish(r, p);
  }
  if (tag == names::kCachePass) {
    CachePass p;
    p.host = r.get<std::string>("host", false);
    p.target = r.get<std::string>("target");
    return finish(r, p);
  }
  return Unknown{tag};
}

std::variant<Message, DecodeError> decode_handle(const json& j) {
  auto type = j.find("type");
  const bool server = type != j.end() && type->is_string() && *type == names::kServerType;
  if (type == j.end() || !type->is_string() || (*type != names::kSocketType && !server))
    return DecodeError{"NODE_HANDLE without type \"net.Socket\" or \"net.Server\""};
  auto msg = j.find("msg");
  if (msg == j.end() || !msg->is_object()) return DecodeError{"NODE_HANDLE without a msg object"};
  Reader r{*msg, {}};
  if (server) {
    if (auto tag = msg->find("handoff"); tag == msg->end() || *tag != names::kListen)
      return DecodeError{"a net.Server NODE_HANDLE that is not `listen`"};
    Listen l;
    l.listener = r.get<std::string>("listener");
    l.backlog = r.get<int>("backlog", false);
    return finish(r, l);
  }
  // Bytes in base64; a value that does not decode is an error, never silently dropped.
  auto head = [&](bool required) -> std::string {
    const auto text = r.get<std::string>("head", required);
    auto bytes = base64_decode(text);
    if (!bytes && r.error.empty()) r.error = "field 'head' is not base64";
    return bytes.value_or("");
  };
  if (auto tag = msg->find("handoff"); tag != msg->end() && *tag == names::kHandback) {
    Handback b;
    b.id = r.get<std::uint64_t>("id", false);
    b.remote_address = r.get<std::string>("remote", false);
    b.remote_port = r.get<int>("port", false);
    b.listener = r.get<std::string>("listener");
    b.head = head(true);
    return finish(r, b);
  }
  Handle h;
  h.conn.id = r.get<std::uint64_t>("id");
  h.conn.remote_address = r.get<std::string>("remote", false);
  h.conn.remote_port = r.get<int>("port", false);
  h.conn.listener = r.get<std::string>("listener", false);
  h.conn.head = head(false);
  if (auto it = msg->find("fill"); it != msg->end()) {
    if (!it->is_boolean()) return DecodeError{"field 'fill' has the wrong type"};
    h.conn.fill = it->get<bool>();
  }
  return finish(r, h);
}

}  // namespace

std::string encode(const Message& message) {
  if (std::holds_alternative<HandleAck>(message)) return std::string(names::kHandleAckWire);
  if (const auto* h = std::get_if<Handle>(&message)) return connection_line(kConnStart, h->conn, false);
  if (const auto* b = std::get_if<Handback>(&message)) return connection_line(kHandbackStart, *b, true);
  json j = std::visit(
      overloaded{
          [](const Handle&) { return json(); },    // written above
          [](const Handback&) { return json(); },  // written above
          [](const Listen& l) {
            json msg = tagged(names::kListen);
            msg["listener"] = l.listener;
            msg["backlog"] = l.backlog;
            return json{{"cmd", names::kHandle}, {"type", names::kServerType}, {"msg", std::move(msg)}};
          },
          [](const HandleAck&) { return json(); },  // written above
          [](const HandleNack&) { return json{{"cmd", names::kHandleNack}}; },
          [](const Hello& h) {
            json o = tagged(names::kHello);
            o["sdk"] = h.sdk;
            o["v"] = h.version;
            o["pid"] = h.pid;
            if (h.metrics) o["metrics"] = true;
            if (h.window > 1) o["window"] = h.window;
            return o;
          },
          [](const Welcome& w) {
            json o = tagged(names::kWelcome);
            o["app"] = w.app;
            o["slot"] = w.slot;
            o["workers"] = w.workers;
            o["generation"] = w.generation;
            o["heartbeat_ms"] = w.heartbeat_ms;
            if (checks_something(w.route)) o["route"] = route_to_json(w.route);
            if (w.http) {
              json http = json::object();
              for (const auto& s : kHttpSettings) http[std::string(s.wire)] = (*w.http).*s.field;
              o["http"] = std::move(http);
            }
            if (w.httpsys) o["httpsys"] = json{{"queue", w.httpsys->queue}, {"prefix", w.httpsys->prefix}};
            if (w.drain)
              o["drain"] = json{{"deadline_margin_ms", w.drain->deadline_margin_ms},
                                {"deadline_margin_divisor", w.drain->deadline_margin_divisor},
                                {"idle_grace_ms", w.drain->idle_grace_ms}};
            if (w.cache) {
              o["cache"] = json{{"max_entry", w.cache->max_entry}};
              if (!w.cache->table.empty()) o["cache"]["table"] = w.cache->table;
              if (w.cache->default_ttl_ms > 0) o["cache"]["default_ttl_ms"] = w.cache->default_ttl_ms;
            }
            return o;
          },
          [](const Ready&) { return tagged(names::kReady); },
          [](const Stats& st) {
            json o = tagged(names::kStats);
            o["requests"] = st.requests;
            o["connections"] = st.connections;
            o["bytes"] = st.bytes;
            o["rss"] = st.rss;
            return o;
          },
          [](const Drain& d) {
            json o = tagged(names::kDrain);
            o["timeout_ms"] = d.timeout_ms;
            if (d.handback) o["handback"] = true;
            return o;
          },
          [](const Route& rt) {
            json o = tagged(names::kRoute);
            o["workers"] = rt.workers;
            if (checks_something(rt.route)) o["route"] = route_to_json(rt.route);
            return o;
          },
          [](const Metrics& m) {
            json o = tagged(names::kMetrics);
            o["id"] = m.id;
            return o;
          },
          [](const MetricsText& m) {
            json o = tagged(names::kMetricsText);
            o["id"] = m.id;
            o["text"] = m.text;
            if (m.sum) o["sum"] = true;
            return o;
          },
          [](const CachePut& p) {
            json o = tagged(names::kCachePut);
            o["host"] = p.host;
            o["target"] = p.target;
            if (!p.accept_encoding.empty()) o["accept_encoding"] = p.accept_encoding;
            if (p.ttl) o["ttl"] = *p.ttl;
            o["status"] = p.status;
            json headers = json::array();
            for (const auto& [name, value] : p.headers) headers.push_back(json::array({name, value}));
            o["headers"] = std::move(headers);
            o["body"] = base64_encode(p.body);
            return o;
          },
          [](const CachePass& p) {
            json o = tagged(names::kCachePass);
            o["host"] = p.host;
            o["target"] = p.target;
            return o;
          },
          [](const Unknown& u) { return json{{"handoff", u.what}, {"v", kVersion}}; },
      },
      message);
  // Invalid UTF-8 in a string would make dump() throw; replace it instead, since a
  // malformed line would crash a Node peer (protocols/README.md).
  std::string line = j.dump(-1, ' ', false, json::error_handler_t::replace);
  line.push_back('\n');
  return line;
}

bool plain_json_text(std::string_view s) { return plain_json(s); }

std::string encode_conn(const ConnView& conn) { return connection_line(kConnStart, conn, false); }
std::string_view encode_conn(const ConnView& conn, std::string& storage) {
  return connection_line(kConnStart, conn, false, storage);
}

std::variant<Message, DecodeError> decode(std::string_view line) {
  if (line == names::kHandleAckLine) return HandleAck{};
  json j = json::parse(line.begin(), line.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return DecodeError{"malformed JSON"};
  if (!j.is_object()) return DecodeError{"not a JSON object"};

  if (auto cmd = j.find("cmd"); cmd != j.end() && cmd->is_string()) {
    const auto& c = cmd->get_ref<const std::string&>();
    if (c == names::kHandle) return decode_handle(j);
    if (c == names::kHandleAck) return HandleAck{};
    if (c == names::kHandleNack) return HandleNack{};
    return Unknown{c};
  }
  if (auto tag = j.find("handoff"); tag != j.end() && tag->is_string())
    return decode_ours(j, tag->get<std::string>());
  return Unknown{};
}

std::string_view name_of(const Message& message) {
  return std::visit(overloaded{
                        [](const Handle&) { return names::kHandle; },
                        [](const Handback&) { return names::kHandback; },
                        [](const Listen&) { return names::kListen; },
                        [](const HandleAck&) { return names::kHandleAck; },
                        [](const HandleNack&) { return names::kHandleNack; },
                        [](const Hello&) { return names::kHello; },
                        [](const Welcome&) { return names::kWelcome; },
                        [](const Ready&) { return names::kReady; },
                        [](const Stats&) { return names::kStats; },
                        [](const Drain&) { return names::kDrain; },
                        [](const Route&) { return names::kRoute; },
                        [](const Metrics&) { return names::kMetrics; },
                        [](const MetricsText&) { return names::kMetricsText; },
                        [](const CachePut&) { return names::kCachePut; },
                        [](const CachePass&) { return names::kCachePass; },
                        [](const Unknown&) { return std::string_view{"unknown"}; },
                    },
                    message);
}

}  // namespace handoff::ipc
