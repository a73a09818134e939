#include "environment.h"

#include <uv.h>

#include <charconv>

namespace handoff {

std::optional<std::string> get_env(const char* name) {
  std::string value(256, '\0');
  size_t size = value.size();
  int rc = uv_os_getenv(name, value.data(), &size);
  if (rc == UV_ENOBUFS) {  // size now holds the length needed, terminator included
    value.resize(size);
    rc = uv_os_getenv(name, value.data(), &size);
  }
  if (rc != 0) return std::nullopt;
  value.resize(size);
  return value;
}

void unset_env(const char* name) { (void)uv_os_unsetenv(name); }

std::optional<int> parse_int(std::string_view text) {
  int value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return value;
}

}  // namespace handoff
