#include "worker-sdk/cpp/src/cache_note.h"

#include "worker-sdk/cpp/src/response_writer.h"

#include "protocols/cache_rules.h"

#include <optional>
#include <string>

namespace handoff {

namespace {

std::optional<std::int64_t> explicit_ttl(const Response& response) {
  if (response.cache_seconds == 0) return std::nullopt;
  return static_cast<std::int64_t>(response.cache_seconds);
}

}  // namespace

bool has_authorization(const Request& request) {
  for (const auto& h : request.headers)
    if (iequals(h.name, "authorization")) return true;
  return false;
}

std::string accept_encoding(const Request& request) {
  std::string all;
  for (const auto& h : request.headers) {
    if (!iequals(h.name, "accept-encoding")) continue;
    if (!all.empty()) all += ", ";
    all += h.value;
  }
  return all;
}

bool worth_caching(const Request& request, const Response& response, std::uint64_t max_entry) {
  // The cheap refusals first: most requests and responses stop here.
  if (response.body.size() > max_entry || !cache_rules::cacheable_status(response.status)) return false;
  if (!cache_rules::cacheable_request(request.method, has_authorization(request))) return false;
  cache_rules::ResponseCacheFacts facts;
  for (const auto& h : response.headers) facts.add(h.name, h.value);
  return cache_rules::cache_lifetime(response.status, facts, explicit_ttl(response)).has_value();
}

ipc::CachePut cache_put(const Request& request, const Response& response) {
  ipc::CachePut put{.host = cache_rules::key_host(request.header("host")),
                    .target = request.target,
                    .accept_encoding = accept_encoding(request),
                    .ttl = explicit_ttl(response),
                    .status = response.status,
                    .headers = {},
                    .body = response.body};
  put.headers.reserve(response.headers.size());
  // What the client gets, less what is the connection's or the moment's: the master frames
  // and dates each answer it serves from the cache itself.
  for (const auto& h : response.headers)
    if (writes_header(h) && !iequals(h.name, "date")) put.headers.emplace_back(h.name, h.value);
  return put;
}

ipc::CachePass cache_pass(const Request& request) {
  return {.host = cache_rules::key_host(request.header("host")), .target = request.target};
}

}  // namespace handoff
