#include "supervisor/core/routing/request_head.h"

#include <array>
#include <llhttp.h>

#include "protocols/route_key.h"
#include "protocols/http_text.h"

namespace handoff {

namespace {

// RFC 9110 tchar. llhttp 8 (the one Debian ships) takes an empty name, and built loose
// (we build it strict: CMakeLists.txt) a space in a field name and between the name and
// the colon; Node's llhttp 9 and RFC 9112 (section 5.1: "MUST reject") do not, so neither
// do we: "Host : evil" must not route.
// RFC 9110 tchar, one look-up per character (every header name of every head peeked).
constexpr auto kTokenChar = [] {
  std::array<bool, 256> token{};
  for (int c = '0'; c <= '9'; ++c) token[static_cast<std::size_t>(c)] = true;
  for (int c = 'a'; c <= 'z'; ++c) token[static_cast<std::size_t>(c)] = true;
  for (int c = 'A'; c <= 'Z'; ++c) token[static_cast<std::size_t>(c)] = true;
  for (const char c : std::string_view("!#$%&'*+-.^_`|~")) token[static_cast<unsigned char>(c)] = true;
  return token;
}();

bool is_token(std::string_view s) {
  bool token = !s.empty();
  for (const char c : s) token &= kTokenChar[static_cast<unsigned char>(c)];
  return token;
}

// Where the head ends, by the line endings llhttp accepts: the request line may end in
// a bare LF, header lines in CRLF, and the empty line that closes the head in CRLF or LF.
// So the head ends at the first LF followed by an empty line ("\n\n" or "\n\r\n"). Empty
// lines before the request line are skipped, as llhttp skips them. Returns the length of
// the head, or 0 when no end is in `bytes` yet. This cheap scan is what runs each time
// more bytes arrive; llhttp only runs once it finds an end.
std::size_t find_end_of_head(std::string_view bytes) {
  std::size_t from = bytes.find_first_not_of("\r\n");
  if (from == std::string_view::npos) return 0;
  for (;;) {
    const std::size_t lf = bytes.find('\n', from);
    if (lf == std::string_view::npos || lf + 1 >= bytes.size()) return 0;
    if (bytes[lf + 1] == '\n') return lf + 2;
    if (bytes[lf + 1] == '\r') {
      if (lf + 2 >= bytes.size()) return 0;
      if (bytes[lf + 2] == '\n') return lf + 3;
    }
    from = lf + 1;
  }
}

// What the llhttp callbacks collect. llhttp hands each element as one span here, since
// the whole head is in one buffer; a value that arrives as a second span is an obs-fold
// continuation line.
struct Collector {
  RequestHead* head = nullptr;
  std::string_view field;
  std::string_view value;
  bool have_value = false;
  bool headers_done = false;
  bool bad = false;  // rejected beyond llhttp's own checks
};

Collector& of(llhttp_t* p) { return *static_cast<Collector*>(p->data); }

int on_method(llhttp_t* p, const char* at, std::size_t n) {
  auto& c = of(p);
  c.head->method = {at, n};
  // The HTTP/2 preface ("PRI * HTTP/2.0"): llhttp would wait for all of it before saying
  // so; it is not HTTP/1 as soon as we see the method.
  if (c.head->method == "PRI") {
    c.bad = true;
    return HPE_USER;
  }
  return HPE_OK;
}

int on_url(llhttp_t* p, const char* at, std::size_t n) {
  of(p).head->target = {at, n};
  return HPE_OK;
}

int on_header_field(llhttp_t* p, const char* at, std::size_t n) {
  auto& c = of(p);
  c.field = {at, n};
  c.value = {at + n, 0};  // an empty value still points into the buffer
  c.have_value = false;
  return HPE_OK;
}

int on_header_value(llhttp_t* p, const char* at, std::size_t n) {
  auto& c = of(p);
  if (n == 0) return HPE_OK;  // llhttp reports an empty value this way, after its line
  // An obs-fold continuation (RFC 9112 5.2): its value cannot be one view into the
  // buffer, and a server may reject it with 400, so we do. It shows as a second span of
  // the value, or as a first one on a line after the field's.
  const char* field_end = c.field.data() + c.field.size();
  if (c.have_value || std::string_view(field_end, static_cast<std::size_t>(at - field_end)).find('\n') !=
                          std::string_view::npos) {
    c.bad = true;
    return HPE_USER;
  }
  c.value = {at, n};
  c.have_value = true;
  return HPE_OK;
}

int on_header_value_complete(llhttp_t* p) {
  auto& c = of(p);
  if (!is_token(c.field)) {
    c.bad = true;
    return HPE_USER;
  }
  c.head->headers.push_back({c.field, trim_blanks(c.value)});
  return HPE_OK;
}

int on_headers_complete(llhttp_t* p) {
  of(p).headers_done = true;
  return HPE_PAUSED;  // what follows the head (a body, the next request) is not ours
}

const llhttp_settings_t& settings() {
  static const llhttp_settings_t s = [] {
    llhttp_settings_t x;
    llhttp_settings_init(&x);
    x.on_method = on_method;
    x.on_url = on_url;
    x.on_header_field = on_header_field;
    x.on_header_value = on_header_value;
    x.on_header_value_complete = on_header_value_complete;
    x.on_headers_complete = on_headers_complete;
    return x;
  }();
  return s;
}

// llhttp 8 also takes RTSP/1.0 and ICE/1.0 request lines; the version after the target
// must be HTTP's.
bool says_http(std::string_view bytes, const RequestHead& head) {
  if (head.target.data() == nullptr) return false;
  const std::size_t after_target = static_cast<std::size_t>(head.target.data() - bytes.data()) + head.target.size();
  const std::size_t version = bytes.find_first_not_of(' ', after_target);
  return version != std::string_view::npos && bytes.substr(version, 5) == "HTTP/";
}

}  // namespace

std::optional<std::string_view> RequestHead::header(std::string_view name) const {
  for (const auto& h : headers)
    if (same_name(h.name, name)) return h.value;
  return std::nullopt;
}

// Whether what came so far can still become a request line: its method is a token. So a
// TLS ClientHello or other binary on a plain port is a 400 at once, not a 408 later.
bool could_be_request(std::string_view bytes) {
  const std::size_t start = bytes.find_first_not_of("\r\n");
  if (start == std::string_view::npos) return true;
  const std::string_view line = bytes.substr(start);
  const std::string_view method = line.substr(0, line.find(' '));
  return method.empty() || is_token(method);
}

HeadParse parse_request_head(std::string_view bytes, std::size_t max_head) {
  HeadParse result;
  const std::size_t end = find_end_of_head(bytes.substr(0, max_head));
  if (end == 0) {
    if (!could_be_request(bytes.substr(0, max_head))) result.status = HeadStatus::malformed;
    else result.status = bytes.size() >= max_head ? HeadStatus::too_large : HeadStatus::incomplete;
    return result;
  }

  RequestHead& head = result.head;
  head.headers.reserve(8);  // one allocation for a usual head, not one per growth
  Collector collector;
  collector.head = &head;
  llhttp_t parser;
  llhttp_init(&parser, HTTP_REQUEST, &settings());
  parser.data = &collector;
  // llhttp stops at the end of the head (on_headers_complete pauses), so what follows it
  // is never parsed. All the bytes up to max_head go in, in case llhttp sees the head end
  // later than our scan (it then waits for more; the next call tries again).
  const std::string_view input = bytes.substr(0, max_head);
  llhttp_errno_t err = llhttp_execute(&parser, input.data(), input.size());
  if (err == HPE_OK && !collector.headers_done) {
    // llhttp saw no end where our scan did: it wants more, up to the limit.
    result.status = bytes.size() >= max_head ? HeadStatus::too_large : HeadStatus::incomplete;
    return result;
  }
  if (err != HPE_PAUSED || !collector.headers_done || collector.bad) {
    result.status = HeadStatus::malformed;
    return result;
  }
  const auto length = static_cast<std::size_t>(llhttp_get_error_pos(&parser) - bytes.data());
  // llhttp 8.1 built loose ends a head at CR followed by any byte, not only CRLF (as
  // CVE-2023-30589 describes); the head must end at the empty line our scan found.
  if (length != end) {
    result.status = HeadStatus::malformed;
    return result;
  }
  // Let llhttp finish judging the head without giving it a byte more: the checks it makes
  // after on_headers_complete (Transfer-Encoding without chunked, ...) run here.
  llhttp_resume(&parser);
  err = llhttp_execute(&parser, bytes.data() + length, 0);
  if (err != HPE_OK && err != HPE_PAUSED_UPGRADE) {
    result.status = HeadStatus::malformed;
    return result;
  }

  head.http_major = llhttp_get_http_major(&parser);
  head.http_minor = llhttp_get_http_minor(&parser);
  if (head.http_major != 1 || !says_http(bytes, head)) {
    result.status = HeadStatus::malformed;
    return result;
  }
  const std::size_t question = head.target.find('?');
  head.path = head.target.substr(0, question);
  if (question != std::string_view::npos) head.query = head.target.substr(question + 1);
  head.bytes = bytes.substr(0, length);
  result.status = HeadStatus::complete;
  return result;
}

}  // namespace handoff
