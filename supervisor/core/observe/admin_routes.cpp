#include "supervisor/core/observe/admin_routes.h"

namespace handoff {
namespace {

std::string_view reason(int status) {
  switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 431: return "Request Header Fields Too Large";
    case 503: return "Service Unavailable";
  }
  return "Unknown";
}

}  // namespace

HttpAnswer metrics_answer(std::string body) {
  return {200, "text/plain; version=0.0.4; charset=utf-8", std::move(body)};
}

HttpAnswer route_admin(std::string_view method, std::string_view target, AdminSource& source) {
  const std::string_view path = target.substr(0, target.find('?'));
  if (method != "GET" && method != "HEAD") return {405, "text/plain; charset=utf-8", "only GET and HEAD\n"};
  if (path == "/metrics") return metrics_answer(source.metrics_text());
  if (path == "/status") return {200, "application/json", source.status_text() + "\n"};
  std::string detail;
  if (path == "/healthz") {
    const bool ok = source.healthy(detail);
    return {ok ? 200 : 503, "text/plain; charset=utf-8", (ok ? "ok" : detail) + "\n"};
  }
  if (path == "/readyz") {
    const bool ok = source.ready(detail);
    return {ok ? 200 : 503, "text/plain; charset=utf-8", (ok ? std::string("ready") : detail) + "\n"};
  }
  return {404, "text/plain; charset=utf-8", "not found: try /metrics, /healthz, /readyz, /status\n"};
}

std::string serialize(const HttpAnswer& a, bool head_only) {
  std::string out = "HTTP/1.1 " + std::to_string(a.status) + " " + std::string(reason(a.status)) +
                    "\r\nContent-Type: " + a.content_type + "\r\nContent-Length: " + std::to_string(a.body.size()) +
                    "\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n";
  if (!head_only) out += a.body;
  return out;
}

}  // namespace handoff
