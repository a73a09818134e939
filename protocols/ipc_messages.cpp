#include "protocols/ipc_messages.h"

#include "protocols/overloaded.h"

#include <nlohmann/json.hpp>

namespace handoff::ipc {

using nlohmann::json;

namespace {

json tagged(std::string_view tag) { return json{{"handoff", tag}, {"v", kVersion}}; }

json conn_to_json(const Conn& c) {
  json j = tagged(names::kConn);
  j["id"] = c.id;
  j["remote"] = c.remote_address;
  j["port"] = c.remote_port;
  j["listener"] = c.listener;
  return j;
}

// Field readers that report what is wrong instead of throwing.
struct Reader {
  const json& object;
  std::string error;

  template <class T>
  T get(const char* key, bool required = true) {
    auto it = object.find(key);
    if (it == object.end()) {
      if (required && error.empty()) error = std::string("missing field '") + key + "'";
      return T{};
    }
    if constexpr (std::is_same_v<T, std::string>) {
      if (it->is_string()) return it->template get<std::string>();
    } else if constexpr (std::is_unsigned_v<T>) {
      if (it->is_number_unsigned()) return it->template get<T>();
    } else {
      if (it->is_number_integer()) return it->template get<T>();
    }
    if (error.empty()) error = std::string("field '") + key + "' has the wrong type";
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
    return finish(r, h);
  }
  if (tag == names::kWelcome) {
    Welcome w;
    w.app = r.get<std::string>("app");
    w.slot = r.get<int>("slot");
    w.workers = r.get<int>("workers");
    w.generation = r.get<int>("generation");
    w.heartbeat_ms = r.get<std::int64_t>("heartbeat_ms", false);
    if (auto http = j.find("http"); http != j.end()) {
      if (!http->is_object()) return DecodeError{"field 'http' has the wrong type"};
      Reader h{*http, {}};
      w.http = HttpSettings{
          .keep_alive_timeout_ms = h.get<std::uint64_t>("keep_alive_timeout_ms"),
          .headers_timeout_ms = h.get<std::uint64_t>("headers_timeout_ms"),
          .request_timeout_ms = h.get<std::uint64_t>("request_timeout_ms"),
          .max_requests_per_socket = h.get<std::uint64_t>("max_requests_per_socket"),
          .max_header_size = h.get<std::uint64_t>("max_header_size"),
          .max_body_size = h.get<std::uint64_t>("max_body_size"),
      };
      if (!h.error.empty()) return DecodeError{"http: " + h.error};
    }
    return finish(r, w);
  }
  if (tag == names::kReady) return Ready{};
  if (tag == names::kStats) {
    Stats st;
    st.requests = r.get<std::uint64_t>("requests", false);
    st.connections = r.get<std::uint64_t>("connections", false);
    st.rss = r.get<std::uint64_t>("rss", false);
    return finish(r, st);
  }
  if (tag == names::kDrain) {
    Drain d;
    d.timeout_ms = r.get<std::int64_t>("timeout_ms", false);
    return finish(r, d);
  }
  return Unknown{tag};
}

std::variant<Message, DecodeError> decode_handle(const json& j) {
  auto type = j.find("type");
  if (type == j.end() || !type->is_string() || *type != names::kSocketType)
    return DecodeError{"NODE_HANDLE without type \"net.Socket\""};
  auto msg = j.find("msg");
  if (msg == j.end() || !msg->is_object()) return DecodeError{"NODE_HANDLE without a msg object"};
  Reader r{*msg, {}};
  Handle h;
  h.conn.id = r.get<std::uint64_t>("id");
  h.conn.remote_address = r.get<std::string>("remote", false);
  h.conn.remote_port = r.get<int>("port", false);
  h.conn.listener = r.get<std::string>("listener", false);
  return finish(r, h);
}

}  // namespace

std::string encode(const Message& message) {
  json j = std::visit(
      overloaded{
          [](const Handle& h) {
            return json{{"cmd", names::kHandle}, {"type", names::kSocketType}, {"msg", conn_to_json(h.conn)}};
          },
          [](const HandleAck&) { return json{{"cmd", names::kHandleAck}}; },
          [](const HandleNack&) { return json{{"cmd", names::kHandleNack}}; },
          [](const Hello& h) {
            json o = tagged(names::kHello);
            o["sdk"] = h.sdk;
            o["v"] = h.version;
            o["pid"] = h.pid;
            return o;
          },
          [](const Welcome& w) {
            json o = tagged(names::kWelcome);
            o["app"] = w.app;
            o["slot"] = w.slot;
            o["workers"] = w.workers;
            o["generation"] = w.generation;
            o["heartbeat_ms"] = w.heartbeat_ms;
            if (w.http) {
              o["http"] = json{{"keep_alive_timeout_ms", w.http->keep_alive_timeout_ms},
                               {"headers_timeout_ms", w.http->headers_timeout_ms},
                               {"request_timeout_ms", w.http->request_timeout_ms},
                               {"max_requests_per_socket", w.http->max_requests_per_socket},
                               {"max_header_size", w.http->max_header_size},
                               {"max_body_size", w.http->max_body_size}};
            }
            return o;
          },
          [](const Ready&) { return tagged(names::kReady); },
          [](const Stats& st) {
            json o = tagged(names::kStats);
            o["requests"] = st.requests;
            o["connections"] = st.connections;
            o["rss"] = st.rss;
            return o;
          },
          [](const Drain& d) {
            json o = tagged(names::kDrain);
            o["timeout_ms"] = d.timeout_ms;
            return o;
          },
          [](const Unknown& u) { return json{{"handoff", u.what}, {"v", kVersion}}; },
      },
      message);
  // Invalid UTF-8 in a string would make dump() throw; replace it instead, since a
  // malformed line would crash a Node peer (NODE-IPC.md).
  std::string line = j.dump(-1, ' ', false, json::error_handler_t::replace);
  line.push_back('\n');
  return line;
}

std::variant<Message, DecodeError> decode(std::string_view line) {
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
                        [](const HandleAck&) { return names::kHandleAck; },
                        [](const HandleNack&) { return names::kHandleNack; },
                        [](const Hello&) { return names::kHello; },
                        [](const Welcome&) { return names::kWelcome; },
                        [](const Ready&) { return names::kReady; },
                        [](const Stats&) { return names::kStats; },
                        [](const Drain&) { return names::kDrain; },
                        [](const Unknown&) { return std::string_view{"unknown"}; },
                    },
                    message);
}

}  // namespace handoff::ipc
