#include "worker-sdk/cpp/src/response_writer.h"

#include <charconv>

namespace handoff {

namespace {

// Framing headers are computed here, never taken from the application: a wrong
// Content-Length from a handler would desynchronize the keep-alive stream.
bool is_framing_header(std::string_view name) {
  return iequals(name, "content-length") || iequals(name, "transfer-encoding") || iequals(name, "connection") ||
         iequals(name, "keep-alive");
}

// A CR or LF in a name or value would let a handler (or the data it echoes) inject
// headers or a second response; such headers are dropped.
bool is_safe(std::string_view s) { return s.find_first_of("\r\n") == std::string_view::npos; }

bool is_valid_name(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (c <= ' ' || c == ':' || c == 0x7f) return false;
  return true;
}

// 1xx, 204 and 304 responses never have a body (RFC 9112 6.3), and 1xx/204 must not
// carry Content-Length.
bool status_forbids_body(int status) { return status < 200 || status == 204 || status == 304; }

void append_number(std::string& out, std::size_t n) {
  char digits[24];
  auto [end, ec] = std::to_chars(digits, digits + sizeof digits, n);
  (void)ec;  // 24 chars always suffice for a size_t
  out.append(digits, end);
}

void append_status_line(std::string& out, int status) {
  out.append("HTTP/1.1 ");
  append_number(out, static_cast<std::size_t>(status));
  out.push_back(' ');
  out.append(reason_phrase(status));
  out.append("\r\n");
}

}  // namespace

std::string_view reason_phrase(int status) {
  switch (status) {
    case 100: return "Continue";
    case 101: return "Switching Protocols";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 206: return "Partial Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 303: return "See Other";
    case 304: return "Not Modified";
    case 307: return "Temporary Redirect";
    case 308: return "Permanent Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 410: return "Gone";
    case 411: return "Length Required";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
    default: return "Unknown";
  }
}

SerializedResponse serialize_response(Response response, const ResponseFraming& framing) {
  // A status outside 100..999 cannot be written on a status line.
  if (response.status < 100 || response.status > 999) response.status = 500;

  SerializedResponse out;
  out.head.reserve(128);
  append_status_line(out.head, response.status);
  for (const auto& h : response.headers) {
    if (!writes_header(h)) continue;
    out.head.append(h.name).append(": ").append(h.value).append("\r\n");
  }
  const bool no_body = status_forbids_body(response.status);
  if (!no_body) {
    out.head.append("Content-Length: ");
    append_number(out.head, response.body.size());
    out.head.append("\r\n");
  }
  if (!framing.keep_alive)
    out.head.append("Connection: close\r\n");
  else if (framing.http10)
    out.head.append("Connection: keep-alive\r\n");
  if (framing.keep_alive && framing.keep_alive_timeout_s > 0) {
    out.head.append("Keep-Alive: timeout=");
    append_number(out.head, framing.keep_alive_timeout_s);
    if (framing.keep_alive_max > 0) {
      out.head.append(", max=");
      append_number(out.head, framing.keep_alive_max);
    }
    out.head.append("\r\n");
  }
  out.head.append("\r\n");

  if (!no_body && !framing.head_request) out.body = std::move(response.body);
  return out;
}

SerializedResponse continue_response() { return {"HTTP/1.1 100 Continue\r\n\r\n", {}}; }

Response error_text(int status) {
  Response r;
  r.status = status;
  r.headers.push_back({"Content-Type", "text/plain"});
  r.body = std::string(reason_phrase(status)) + "\n";
  return r;
}

SerializedResponse error_response(int status) {
  return serialize_response(error_text(status), ResponseFraming{.head_request = false, .keep_alive = false});
}

bool writes_header(const Header& h) { return !is_framing_header(h.name) && is_valid_name(h.name) && is_safe(h.value); }

}  // namespace handoff
