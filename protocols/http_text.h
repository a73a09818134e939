// Small text rules of HTTP that the master's head parser and the route keys (both SDKs'
// and the master's) must apply alike.
#pragma once

#include <string_view>

namespace handoff {

// Without the optional whitespace (RFC 9110 OWS: spaces and tabs) around a field value.
inline std::string_view trim_blanks(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace handoff
