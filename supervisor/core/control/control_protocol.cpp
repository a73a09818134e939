#include "supervisor/core/control/control_protocol.h"

#include "supervisor/core/config.h"

namespace handoff::control {

using nlohmann::json;

namespace {

constexpr std::pair<std::string_view, Command> kCommands[] = {
    {"status", Command::status}, {"reload", Command::reload}, {"scale", Command::scale}, {"stop", Command::stop},
    {"restart", Command::restart}, {"logs", Command::logs}, {"cache_purge", Command::cache_purge}};


std::string line_of(const nlohmann::ordered_json& j) {
  std::string line = j.dump(-1, ' ', false, json::error_handler_t::replace);
  line.push_back('\n');
  return line;
}

}  // namespace

std::string_view to_string(Command command) {
  for (const auto& [name, c] : kCommands)
    if (c == command) return name;
  return "unknown";
}

std::string encode(const Request& r) {
  nlohmann::ordered_json j;
  j["cmd"] = to_string(r.command);
  if (r.command == Command::scale) {
    j["app"] = r.app;
    j["workers"] = r.workers;
  }
  if (r.command == Command::restart) j["app"] = r.app;
  if (r.command == Command::reload || r.command == Command::restart || r.command == Command::scale) {
    if (r.wait) j["wait"] = true;
    if (r.config_only) j["config_only"] = true;
    if (r.timeout_ms > 0) j["timeout_ms"] = r.timeout_ms;
  }
  if (r.command == Command::logs) {
    if (!r.app.empty()) j["app"] = r.app;
    j["follow"] = r.follow;
  }
  if (r.command == Command::cache_purge) {
    if (!r.app.empty()) j["app"] = r.app;
    if (!r.prefix.empty()) j["prefix"] = r.prefix;
  }
  return line_of(j);
}

std::string encode(const Reply& r) {
  nlohmann::ordered_json j;
  j["ok"] = r.ok;
  if (r.ok) {
    if (!r.message.empty()) j["message"] = r.message;
    if (!r.status.is_null()) j["status"] = r.status;
    if (!r.log_file.empty()) j["log_file"] = r.log_file;
  } else {
    j["error"] = r.message;
  }
  return line_of(j);
}

std::variant<Request, std::string> decode_request(std::string_view line) {
  const json j = json::parse(line.begin(), line.end(), nullptr, false);
  if (j.is_discarded() || !j.is_object()) return std::string("expected one JSON object");
  auto cmd = j.find("cmd");
  if (cmd == j.end() || !cmd->is_string()) return std::string("missing \"cmd\"");
  Request r;
  bool known = false;
  for (const auto& [name, c] : kCommands)
    if (*cmd == name) {
      r.command = c;
      known = true;
    }
  if (!known) return "unknown command \"" + cmd->get<std::string>() + "\" (status, reload, restart, scale, stop, logs, cache_purge)";
  if (r.command == Command::scale) {
    auto app = j.find("app");
    auto workers = j.find("workers");
    if (app == j.end() || !app->is_string() || app->get<std::string>().empty()) return std::string("scale needs \"app\"");
    if (workers == j.end() || !workers->is_number_integer()) return std::string("scale needs \"workers\", an integer");
    const auto n = workers->get<long long>();
    if (n < 1 || n > kMaxWorkers) return "workers must be from 1 to " + std::to_string(kMaxWorkers);
    r.app = app->get<std::string>();
    r.workers = static_cast<int>(n);
  }
  if (r.command == Command::restart) {
    auto app = j.find("app");
    if (app == j.end() || !app->is_string() || app->get<std::string>().empty()) return std::string("restart needs \"app\"");
    r.app = app->get<std::string>();
  }
  if (r.command == Command::reload || r.command == Command::restart || r.command == Command::scale) {
    for (auto [key, field] : {std::pair{"wait", &r.wait}, std::pair{"config_only", &r.config_only}}) {
      auto flag = j.find(key);
      if (flag == j.end()) continue;
      if (!flag->is_boolean()) return std::string("\"") + key + "\" must be true or false";
      *field = flag->get<bool>();
    }
    if (auto timeout = j.find("timeout_ms"); timeout != j.end()) {
      if (!timeout->is_number_integer() || timeout->get<long long>() < 1)
        return std::string("\"timeout_ms\" must be a positive integer");
      r.timeout_ms = timeout->get<std::int64_t>();
    }
  }
  if (r.command == Command::logs) {
    if (auto app = j.find("app"); app != j.end()) {
      if (!app->is_string()) return std::string("logs: \"app\" must be a string");
      r.app = app->get<std::string>();
    }
    if (auto follow = j.find("follow"); follow != j.end()) {
      if (!follow->is_boolean()) return std::string("logs: \"follow\" must be true or false");
      r.follow = follow->get<bool>();
    }
  }
  if (r.command == Command::cache_purge) {
    for (auto [key, field] : {std::pair{"app", &r.app}, std::pair{"prefix", &r.prefix}}) {
      auto value = j.find(key);
      if (value == j.end()) continue;
      if (!value->is_string()) return std::string("cache_purge: \"") + key + "\" must be a string";
      *field = value->get<std::string>();
    }
  }
  return r;
}

std::variant<Reply, std::string> decode_reply(std::string_view line) {
  const json j = json::parse(line.begin(), line.end(), nullptr, false);
  if (j.is_discarded() || !j.is_object()) return std::string("the supervisor's answer is not a JSON object");
  auto ok = j.find("ok");
  if (ok == j.end() || !ok->is_boolean()) return std::string("the supervisor's answer has no \"ok\"");
  Reply r;
  r.ok = ok->get<bool>();
  const char* text_key = r.ok ? "message" : "error";
  if (auto t = j.find(text_key); t != j.end() && t->is_string()) r.message = t->get<std::string>();
  if (auto s = j.find("status"); s != j.end()) r.status = *s;
  if (auto f = j.find("log_file"); f != j.end() && f->is_string()) r.log_file = f->get<std::string>();
  return r;
}

}  // namespace handoff::control
