#include "supervisor/core/route_facts.h"

#include <algorithm>

namespace handoff {

RouteFacts::RouteFacts(std::span<const std::byte> address, std::string_view address_text, int port,
                       const RequestHead* head, bool keep_head)
    : address_length_(std::min(address.size(), address_.size())), address_text_(address_text), port_(port) {
  std::copy_n(address.begin(), address_length_, address_.begin());
  if (head && keep_head) head_bytes_ = head->bytes;
}

}  // namespace handoff
