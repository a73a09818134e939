#include "supervisor/core/route_facts.h"

#include <algorithm>

namespace handoff {

RouteFacts::RouteFacts(std::span<const std::byte> address, std::string address_text, int port,
                       const RequestHead* head, bool keep_head)
    : address_length_(std::min(address.size(), address_.size())), address_text_(std::move(address_text)), port_(port) {
  std::copy_n(address.begin(), address_length_, address_.begin());
  if (!head || !keep_head) return;
  OwnedHead& h = head_.emplace();
  h.method = head->method;
  h.target = head->target;
  h.path = head->path;
  h.query = head->query;
  h.http_major = head->http_major;
  h.http_minor = head->http_minor;
  h.length = head->length;
  h.headers.reserve(head->headers.size());
  for (const auto& header : head->headers) h.headers.emplace_back(header.name, header.value);
}

RequestHead RouteFacts::OwnedHead::view() const {
  RequestHead head;
  head.method = method;
  head.target = target;
  head.path = path;
  head.query = query;
  head.http_major = http_major;
  head.http_minor = http_minor;
  head.length = length;
  head.headers.reserve(headers.size());
  for (const auto& [name, value] : headers) head.headers.push_back({name, value});
  return head;
}

}  // namespace handoff
