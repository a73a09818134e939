// parse_proxy_header on arbitrary bytes: no crash, no read outside the input (ASan), and
// the properties the listener relies on.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <span>
#include <vector>

#include "supervisor/core/routing/proxy_protocol.h"

namespace {

void require(bool ok) {
  if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace handoff;
  // An exact-size copy: ASan catches any read past the end.
  const std::vector<std::byte> bytes(reinterpret_cast<const std::byte*>(data), reinterpret_cast<const std::byte*>(data) + size);
  const ProxyParse p = parse_proxy_header(bytes);

  // Whatever could still become a header looks like one (and an empty buffer does not).
  if (!bytes.empty() && p.status != ProxyStatus::invalid) require(looks_like_proxy_header(bytes));
  if (p.status != ProxyStatus::complete) return 0;

  const ProxyHeader& h = p.header;
  require(h.length > 0 && h.length <= bytes.size() && h.length <= kMaxProxyHeader);
  require(h.local ? h.address_length == 0 : (h.address_length == 4 || h.address_length == 16));
  require(h.local || !h.address_text.empty());
  require(h.port >= 0 && h.port <= 65535);
  // The header alone parses the same; each shorter prefix of it is incomplete.
  const std::span<const std::byte> alone(bytes.data(), h.length);
  const ProxyParse again = parse_proxy_header(alone);
  require(again.status == ProxyStatus::complete && again.header.length == h.length &&
          again.header.address_length == h.address_length && again.header.port == h.port &&
          again.header.address_text == h.address_text &&
          std::memcmp(again.header.address.data(), h.address.data(), h.address.size()) == 0);
  for (std::size_t n = 0; n < h.length; ++n) require(parse_proxy_header(alone.first(n)).status == ProxyStatus::incomplete);
  return 0;
}
