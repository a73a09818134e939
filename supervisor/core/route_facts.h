// What a routing rule needs to route a connection again, owned: the client's address and,
// for rules that read it, a copy of the request head. The classifier's RequestHead points
// into a buffer that is gone once the connection is dispatched; a connection that waits
// and is moved later (its slot lost its worker, a scale-down removed its slot) still has
// its key. Pure.
#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "supervisor/core/routing/dispatch_policy.h"

namespace handoff {

class RouteFacts {
 public:
  RouteFacts() = default;
  // `head` is copied only when `keep_head` (the rule reads it); the rest always.
  RouteFacts(std::span<const std::byte> address, std::string address_text, int port, const RequestHead* head,
             bool keep_head);

  // Calls `use(const RouteInput&)`: the input's views point into this object and into
  // a head rebuilt for the call.
  template <class F>
  decltype(auto) with_input(F&& use) const {
    if (!head_) return use(RouteInput{address_bytes(), nullptr, address_text_, port_});
    const RequestHead head = head_->view();
    return use(RouteInput{address_bytes(), &head, address_text_, port_});
  }

 private:
  // The parts of a request head the rules read, as strings.
  struct OwnedHead {
    std::string method, target, path, query;
    int http_major = 1, http_minor = 1;
    std::size_t length = 0;
    std::vector<std::pair<std::string, std::string>> headers;
    RequestHead view() const;
  };

  std::span<const std::byte> address_bytes() const { return {address_.data(), address_length_}; }

  std::array<std::byte, 16> address_{};
  std::size_t address_length_ = 0;
  std::string address_text_;
  int port_ = 0;
  std::optional<OwnedHead> head_;
};

}  // namespace handoff
