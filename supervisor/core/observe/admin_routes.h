// What the admin endpoint answers, by path. Pure: the master supplies the texts.
//   GET /metrics  Prometheus text format
//   GET /healthz  200 while the master's loop turns
//   GET /readyz   200 once every app has min_ready ready workers (503 before, and while
//                 shutting down)
//   GET /status   the JSON of `supervisor status --json`
#pragma once

#include <functional>
#include <string>
#include <string_view>

namespace handoff {

struct HttpAnswer {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
};

class AdminSource {
 public:
  virtual std::string metrics_text() = 0;
  // /metrics with what the workers add (the apps' own metrics): `done` may run later.
  virtual void metrics_async(std::function<void(std::string)> done) { done(metrics_text()); }
  virtual std::string status_text() = 0;  // JSON
  virtual bool healthy(std::string& detail) = 0;
  virtual bool ready(std::string& detail) = 0;

 protected:
  ~AdminSource() = default;
};

// The /metrics answer around its body (its content type in one place).
HttpAnswer metrics_answer(std::string body);

HttpAnswer route_admin(std::string_view method, std::string_view target, AdminSource& source);

// The answer as bytes: status line, Content-Type, Content-Length, Connection: close.
// HEAD gets the headers alone.
std::string serialize(const HttpAnswer& answer, bool head_only);

}  // namespace handoff
