#include "protocols/base64.h"

// Boost.Beast's codec (header-only, already a dependency through libboost-dev).
#include <boost/beast/core/detail/base64.hpp>

namespace handoff::ipc {

namespace b64 = boost::beast::detail::base64;

std::string base64_encode(std::string_view bytes) {
  std::string out(b64::encoded_size(bytes.size()), '\0');
  out.resize(b64::encode(out.data(), bytes.data(), bytes.size()));
  return out;
}

std::size_t base64_encode(std::string_view bytes, char* out) { return b64::encode(out, bytes.data(), bytes.size()); }

std::optional<std::string> base64_decode(std::string_view text) {
  if (text.size() % 4 != 0) return std::nullopt;
  std::string out(b64::decoded_size(text.size()), '\0');
  const auto [written, read] = b64::decode(out.data(), text.data(), text.size());
  // Beast stops at the first character outside the alphabet; only padding may follow.
  for (std::size_t i = read; i < text.size(); ++i)
    if (text[i] != '=' || text.size() - i > 2) return std::nullopt;
  out.resize(written);
  return out;
}

}  // namespace handoff::ipc
