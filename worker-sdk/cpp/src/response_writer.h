// Serializes a Response into HTTP/1.1 bytes. Pure: no sockets, no parser.
//
// The head (status line + headers) and the body stay separate buffers so the I/O edge
// can hand both to one writev without copying the body.
#pragma once

#include <handoff/worker.h>

#include <string>
#include <string_view>

#include "protocols/http_text.h"

namespace handoff {

struct SerializedResponse {
  std::string head;  // status line, headers, blank line
  std::string body;  // empty for HEAD, 1xx, 204 and 304

  std::size_t size() const { return head.size() + body.size(); }
};

// What the request decided about the response's framing.
struct ResponseFraming {
  bool head_request = false;  // HEAD: Content-Length of the body, but no body bytes
  bool keep_alive = true;     // false: `Connection: close`
  bool http10 = false;        // a kept-alive HTTP/1.0 peer needs `Connection: keep-alive`
  // A kept-alive response announces `Keep-Alive: timeout=<s>[, max=<n>]` when s > 0: how
  // long the server keeps the idle connection, and (n > 0) how many more requests it takes.
  unsigned keep_alive_timeout_s = 0;
  std::size_t keep_alive_max = 0;
};

// Takes the response by value so its body is moved, not copied.
SerializedResponse serialize_response(Response response, const ResponseFraming& framing);

// "HTTP/1.1 100 Continue", for requests that sent `Expect: 100-continue`.
SerializedResponse continue_response();

// The short text/plain response for errors the SDK answers itself (400, 408, 413, 431,
// 500): "<reason phrase>\n". error_response is it serialized, always `Connection: close`.
Response error_text(int status);
SerializedResponse error_response(int status);

// Whether a header of the application's response goes out: framing headers
// (Content-Length, Transfer-Encoding, Connection, Keep-Alive) are the SDK's own (or
// HTTP.SYS's), and a name or value that could inject a header or a response is dropped.
bool writes_header(const Header& header);

std::string_view reason_phrase(int status);

}  // namespace handoff
