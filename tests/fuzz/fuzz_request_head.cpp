// parse_request_head on arbitrary bytes: no crash, no read outside the input (ASan), and
// the properties the classifier relies on.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "supervisor/core/routing/request_head.h"

namespace {

void require(bool ok) {
  if (!ok) std::abort();
}

bool inside(std::string_view view, std::string_view buffer) {
  return view.empty() || (view.data() >= buffer.data() && view.data() + view.size() <= buffer.data() + buffer.size());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace handoff;
  if (size < 1) return 0;
  // The first byte picks the limit, so that too_large is reached as well.
  const std::size_t max_head = 16 + static_cast<std::size_t>(data[0]) * 8;
  // An exact-size copy: ASan catches any read past the end.
  const std::string bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  const HeadParse p = parse_request_head(bytes, max_head);

  if (p.status == HeadStatus::incomplete) require(bytes.size() < max_head);
  if (p.status != HeadStatus::complete) return 0;

  const RequestHead& h = p.head;
  const std::size_t length = h.bytes.size();
  require(length > 0 && length <= bytes.size() && length <= max_head && h.bytes.data() == bytes.data());
  require(h.http_major == 1);
  const std::string_view head = h.bytes;
  for (const auto v : {h.method, h.target, h.path, h.query}) require(inside(v, head));
  for (const auto& f : h.headers) {
    require(inside(f.name, head) && inside(f.value, head) && !f.name.empty());
    require(h.header(f.name).has_value());
  }
  // The head alone parses the same, and whatever follows it is never looked at.
  const std::string alone(h.bytes);
  const HeadParse again = parse_request_head(alone, max_head);
  require(again.status == HeadStatus::complete && again.head.bytes.size() == length &&
          again.head.headers.size() == h.headers.size());
  const HeadParse more = parse_request_head(alone + "\x01garbage\r\n\r\n", max_head);
  require(more.status == HeadStatus::complete && more.head.bytes.size() == length);
  return 0;
}
