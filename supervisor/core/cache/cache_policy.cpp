#include "supervisor/core/cache/cache_policy.h"

#include <algorithm>
#include <array>
#include <charconv>

#include "protocols/cache_rules.h"
#include "protocols/http_text.h"

namespace handoff::cache {
namespace {

constexpr std::array<std::string_view, 10> kNotKept = {
    "connection", "keep-alive", "proxy-connection", "transfer-encoding", "te",
    "trailer",    "upgrade",    "content-length",   "date",              "age"};

constexpr auto kTokenChars = [] {
  std::array<bool, 256> ok{};
  for (int c = '0'; c <= '9'; ++c) ok[static_cast<std::size_t>(c)] = true;
  for (int c = 'a'; c <= 'z'; ++c) ok[static_cast<std::size_t>(c)] = true;
  for (int c = 'A'; c <= 'Z'; ++c) ok[static_cast<std::size_t>(c)] = true;
  for (char c : std::string_view("!#$%&'*+-.^_`|~")) ok[static_cast<unsigned char>(c)] = true;
  return ok;
}();

}  // namespace

std::optional<Lookup> lookup_of(const RequestHead& head) {
  if (!cache_rules::answerable_method(head.method)) return std::nullopt;
  Lookup l;
  l.head_only = head.method == "HEAD";
  bool closes = false, keeps = false, authorization = false, body = false;
  for (const auto& h : head.headers) {
    if (iequals(h.name, "authorization")) authorization = true;
    else if (iequals(h.name, "content-length")) body = body || h.value != "0";
    else if (iequals(h.name, "transfer-encoding")) body = true;
    else if (iequals(h.name, "host")) l.host = h.value;
    else if (iequals(h.name, "accept-encoding")) l.accept_encoding = h.value;
    else if (iequals(h.name, "connection")) {
      closes = closes || has_token(h.value, "close");
      keeps = keeps || has_token(h.value, "keep-alive");
    }
  }
  if (!cache_rules::answerable_request(head.method, authorization, body)) return std::nullopt;
  l.target = head.target;
  l.http10 = head.http_major == 1 && head.http_minor == 0;
  l.keep_alive = l.http10 ? keeps && !closes : !closes;
  return l;
}

StoreDecision decide(const ipc::CachePut& put, const CacheConfig& config) {
  StoreDecision d;
  const auto refuse = [&](std::string_view why) {
    d.why_not = why;
    return d;
  };
  if (!cache_rules::cacheable_status(put.status)) return refuse("status");
  if (put.target.empty() || put.target.front() != '/') return refuse("target");
  if (put.body.size() > config.max_entry) return refuse("too large");
  cache_rules::ResponseCacheFacts facts;
  for (const auto& [name, value] : put.headers) {
    if (!safe_header(name, value)) return refuse("malformed header");
    facts.add(name, value);
  }
  if (facts.forbidden()) return refuse("forbidden (private, no-store, no-cache, Pragma: no-cache, Set-Cookie or Vary)");
  auto seconds = cache_rules::cache_lifetime(put.status, facts, put.ttl);
  std::chrono::milliseconds ttl{0};
  if (seconds) ttl = std::chrono::seconds(*seconds);
  else if (!put.ttl && facts.is_public()) ttl = config.default_ttl;  // public, no lifetime: the app's default
  if (ttl.count() <= 0) return refuse("no lifetime");
  d.store = true;
  d.ttl = ttl;
  d.vary_encoding = facts.varies_on_accept_encoding();
  return d;
}

bool kept_header(std::string_view name) {
  return std::none_of(kNotKept.begin(), kNotKept.end(), [&](std::string_view n) { return iequals(n, name); });
}

bool safe_header(std::string_view name, std::string_view value) {
  if (name.empty()) return false;
  for (char c : name)
    if (!kTokenChars[static_cast<unsigned char>(c)]) return false;
  return value.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos;
}

}  // namespace handoff::cache
