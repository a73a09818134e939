// The request head as the master sees it before choosing a worker: parsed from bytes
// peeked from (or carried with) a connection, without consuming anything. Pure: no I/O.
//
// Every string_view points into the buffer given to parse_request_head(); the caller
// keeps that buffer alive while it uses the head.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>
#include <vector>

namespace handoff {

struct HeaderView {
  std::string_view name;   // as sent; compare case-insensitively
  std::string_view value;  // leading and trailing blanks removed
};

struct RequestHead {
  std::string_view method;  // "GET"
  std::string_view target;  // the request target as sent: "/1/room?x=1"
  std::string_view path;    // target up to '?' (or all of it): "/1/room"
  std::string_view query;   // after '?', without it; empty when none
  int http_major = 1;
  int http_minor = 1;
  std::vector<HeaderView> headers;
  // The head's own bytes, final CRLF CRLF included: what a rule would parse again.
  std::string_view bytes;

  // The first header of that name (case-insensitive), if any.
  std::optional<std::string_view> header(std::string_view name) const;
};

enum class HeadStatus {
  incomplete,  // no end of head yet and fewer than max_head bytes: wait for more
  complete,    // `head` is filled
  too_large,   // max_head bytes without an end of head, or a longer head: 431
  malformed,   // not an HTTP/1.x request head: 400
};

struct HeadParse {
  HeadStatus status = HeadStatus::incomplete;
  RequestHead head;  // valid when status == complete
};

// Parses the request head at the start of `bytes` (which may hold more: a body, the next
// request). Uses llhttp (built strict: CMakeLists.txt), and is stricter than Debian's
// llhttp 8.1 where that one is lax even so (an empty field name, obs-fold, RTSP/ICE
// versions) or when built loose (a CR without LF ending a head, blanks in field names):
// what passes here is a plain HTTP/1.x head. Bytes that cannot begin a request line
// (binary, TLS) are malformed at once, without waiting for an end of head.
HeadParse parse_request_head(std::string_view bytes, std::size_t max_head);

}  // namespace handoff
