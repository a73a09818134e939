#include "supervisor/core/routing/httpsys_prefix.h"

#include <charconv>

namespace handoff {

std::optional<std::string> httpsys_url_problem(std::string_view url) {
  constexpr std::string_view kScheme = "http://";
  if (url.starts_with("https://"))
    return "HTTPS needs a certificate bound with `netsh http add sslcert`, which handoff does not do; use http://";
  if (!url.starts_with(kScheme)) return "expected a URL prefix as http://+:8080/, got \"" + std::string(url) + "\"";
  const std::string_view rest = url.substr(kScheme.size());
  const auto slash = rest.find('/');
  if (slash == std::string_view::npos || url.back() != '/')
    return "an HTTP.SYS URL prefix ends with '/', as http://+:8080/ or http://+:8080/app/";
  const std::string_view authority = rest.substr(0, slash);
  const auto colon = authority.rfind(':');
  if (colon == std::string_view::npos || colon == 0 || authority.back() == ']')
    return "the URL needs a host and a port, as http://+:8080/";
  const std::string_view port = authority.substr(colon + 1);
  int value = 0;
  const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (ec != std::errc{} || end != port.data() + port.size() || value < 1 || value > 65535)
    return "the port must be a number from 1 to 65535, got \"" + std::string(port) + "\"";
  return std::nullopt;
}

std::string httpsys_slot_prefix(std::string_view url, std::string_view route, int slot) {
  std::string prefix(url);
  if (route.starts_with('/')) route.remove_prefix(1);
  prefix += route;
  if (!prefix.ends_with('/')) prefix += '/';
  prefix += std::to_string(slot);
  prefix += '/';
  return prefix;
}

int httpsys_slot_segment(std::string_view url, std::string_view route) {
  std::string path;
  if (auto scheme = url.find("://"); scheme != std::string_view::npos)
    if (auto slash = url.find('/', scheme + 3); slash != std::string_view::npos) path = url.substr(slash);
  path += '/';
  path += route;
  int segments = 0;
  bool in_segment = false;
  for (char c : path) {
    if (c == '/') in_segment = false;
    else if (!in_segment) {
      in_segment = true;
      ++segments;
    }
  }
  return segments + 1;
}

std::optional<std::string> httpsys_flush_url(std::string_view slot_prefix, std::string_view path) {
  if (path.empty()) return std::string(slot_prefix);
  std::string_view origin = slot_prefix;
  std::string_view slot_path = "/";
  if (auto scheme = slot_prefix.find("://"); scheme != std::string_view::npos)
    if (auto slash = slot_prefix.find('/', scheme + 3); slash != std::string_view::npos) {
      origin = slot_prefix.substr(0, slash);
      slot_path = slot_prefix.substr(slash);
    }
  if (slot_path.starts_with(path)) return std::string(slot_prefix);
  if (path.starts_with(slot_path)) return std::string(origin) + std::string(path);
  return std::nullopt;
}

}  // namespace handoff
