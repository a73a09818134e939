#include "worker-sdk/cpp/src/cache_hit.h"

#include <charconv>
#include <string>
#include <string_view>

#include "worker-sdk/cpp/src/cache_note.h"

#include "protocols/cache_rules.h"
#include "protocols/http_date.h"
#include "protocols/http_text.h"

namespace handoff {
namespace {

// What the master looks up too (core/cache/cache_policy.h, lookup_of).
bool looked_up(const Request& request) {
  return cache_rules::answerable_request(request.method, has_authorization(request), !request.body.empty());
}

// The stored head ("HTTP/1.1 200 OK\r\nName: value\r\n..."; the master wrote it from a
// cache_put it checked) as a Response's status and headers.
bool parse_head(std::string_view head, Response& out) {
  const auto line_end = head.find("\r\n");
  if (line_end == std::string_view::npos || line_end < 12) return false;
  const auto code = head.substr(9, 3);
  if (std::from_chars(code.data(), code.data() + 3, out.status).ec != std::errc{}) return false;
  head.remove_prefix(line_end + 2);
  while (!head.empty()) {
    const auto end = head.find("\r\n");
    if (end == std::string_view::npos) return false;
    const auto line = head.substr(0, end);
    const auto colon = line.find(':');
    if (colon == std::string_view::npos) return false;
    out.headers.push_back({std::string(line.substr(0, colon)), std::string(trim_blanks(line.substr(colon + 1)))});
    head.remove_prefix(end + 2);
  }
  return true;
}

}  // namespace

std::optional<Response> cached_response(cache_table::Reader& table, const Request& request,
                                        std::chrono::steady_clock::time_point now,
                                        std::chrono::system_clock::time_point wall) {
  if (!looked_up(request)) return std::nullopt;
  const auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  cache_table::Hit hit;
  if (!table.find(cache_rules::key_host(request.header("host")), request.target, accept_encoding(request), now_ms,
                  hit))
    return std::nullopt;
  Response response;
  if (!parse_head(hit.head, response)) return std::nullopt;
  response.headers.push_back({"Age", std::to_string(now_ms > hit.stored_ms ? (now_ms - hit.stored_ms) / 1000 : 0)});
  response.headers.push_back({"Date", http_date(wall)});
  response.body = std::move(hit.body);
  return response;
}

}  // namespace handoff
