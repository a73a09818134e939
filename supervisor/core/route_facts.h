// What a routing rule needs to route a connection again, owned: the client's address and,
// for rules that read it, the request head's bytes. The classifier's RequestHead points
// into a buffer that is gone once the connection is dispatched; a connection that waits
// and is moved later (its slot lost its worker, a scale-down removed its slot) still has
// its key. The head is kept as its bytes (one copy) and parsed again only when the
// connection is routed again, which is rare: copying its parsed fields for every
// connection cost more than the parse that moving a few of them takes. Pure.
#pragma once

#include <array>
#include <cstddef>
#include <span>
#include <string>
#include <string_view>

#include "supervisor/core/routing/dispatch_policy.h"

namespace handoff {

class RouteFacts {
 public:
  // The head's bytes are kept only when `keep_head` (the rule reads it); the rest always.
  RouteFacts(std::span<const std::byte> address, std::string_view address_text, int port, const RequestHead* head,
             bool keep_head);

  // Calls `use(const RouteInput&)`: the input's views point into this object and into
  // a head parsed again for the call.
  template <class F>
  decltype(auto) with_input(F&& use) const {
    if (head_bytes_.empty()) return use(RouteInput{address_bytes(), nullptr, address_text_, port_});
    const HeadParse parsed = parse_request_head(head_bytes_, head_bytes_.size());
    const RequestHead* head = parsed.status == HeadStatus::complete ? &parsed.head : nullptr;
    return use(RouteInput{address_bytes(), head, address_text_, port_});
  }

 private:
  std::span<const std::byte> address_bytes() const { return {address_.data(), address_length_}; }

  std::array<std::byte, 16> address_{};
  std::size_t address_length_ = 0;
  std::string address_text_;
  int port_ = 0;
  std::string head_bytes_;  // empty: no head kept
};

}  // namespace handoff
