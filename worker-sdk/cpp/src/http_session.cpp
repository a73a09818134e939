#include <handoff/http_session.h>

#include <llhttp.h>

#include <exception>
#include <utility>
#include <string>

namespace handoff {

struct HttpSession::Impl {
  Impl(Handler h, HttpLimits l) : handler(std::move(h)), limits(l) {
    llhttp_init(&parser, HTTP_REQUEST, &settings());
    parser.data = this;
  }

  Handler handler;
  HttpLimits limits;
  llhttp_t parser{};

  // The request being parsed. llhttp hands out spans that may be cut at any byte
  // (the end of one feed), so every span is appended, never assigned.
  Request current;
  std::string field, value;
  std::size_t head_bytes = 0;
  bool headers_done = false;
  bool in_message = false;

  bool closing = false;
  bool paused = false;
  bool peer_done = false;    // EOF seen; close once the held bytes are parsed
  std::string held;          // bytes received while paused
  std::size_t produced = 0;  // response bytes since the last take_output()
  int error_status = 0;  // set by a callback that aborts the parse with HPE_USER
  std::size_t answered = 0;
  std::vector<SerializedResponse> out;

  static Impl& of(llhttp_t* p) { return *static_cast<Impl*>(p->data); }

  static const llhttp_settings_t& settings() {
    static const llhttp_settings_t s = [] {
      llhttp_settings_t x;
      llhttp_settings_init(&x);
      x.on_message_begin = on_message_begin;
      x.on_url = on_url;
      x.on_header_field = on_header_field;
      x.on_header_value = on_header_value;
      x.on_header_value_complete = on_header_value_complete;
      x.on_headers_complete = on_headers_complete;
      x.on_body = on_body;
      x.on_message_complete = on_message_complete;
      return x;
    }();
    return s;
  }

  // Head bytes are capped so a peer cannot grow memory with endless headers.
  int count_head(std::size_t n) {
    head_bytes += n;
    if (head_bytes <= limits.max_head_bytes) return HPE_OK;
    error_status = 431;
    return HPE_USER;
  }

  static int on_message_begin(llhttp_t* p) {
    auto& s = of(p);
    s.current = Request{};
    s.field.clear();
    s.value.clear();
    s.head_bytes = 0;
    s.headers_done = false;
    s.in_message = true;
    return HPE_OK;
  }

  static int on_url(llhttp_t* p, const char* at, std::size_t n) {
    auto& s = of(p);
    if (int e = s.count_head(n)) return e;
    s.current.target.append(at, n);
    return HPE_OK;
  }

  static int on_header_field(llhttp_t* p, const char* at, std::size_t n) {
    auto& s = of(p);
    if (int e = s.count_head(n)) return e;
    if (!s.headers_done) s.field.append(at, n);  // after the head: chunked trailers, dropped
    return HPE_OK;
  }

  static int on_header_value(llhttp_t* p, const char* at, std::size_t n) {
    auto& s = of(p);
    if (int e = s.count_head(n)) return e;
    if (!s.headers_done) s.value.append(at, n);
    return HPE_OK;
  }

  static int on_header_value_complete(llhttp_t* p) {
    auto& s = of(p);
    if (!s.headers_done) s.current.headers.push_back({std::move(s.field), std::move(s.value)});
    s.field.clear();
    s.value.clear();
    return HPE_OK;
  }

  static int on_headers_complete(llhttp_t* p) {
    auto& s = of(p);
    s.headers_done = true;
    s.current.method = llhttp_method_name(static_cast<llhttp_method_t>(llhttp_get_method(p)));
    s.current.http_major = llhttp_get_http_major(p);
    s.current.http_minor = llhttp_get_http_minor(p);
    // Like Node's server without a 'checkContinue' listener: a client that waits for
    // permission to send its body (curl does above 1 KiB) gets it at once.
    if (s.current.http_major == 1 && s.current.http_minor >= 1 &&
        iequals(s.current.header("expect"), "100-continue"))
      s.out.push_back(continue_response());
    return HPE_OK;
  }

  static int on_body(llhttp_t* p, const char* at, std::size_t n) {
    auto& s = of(p);
    if (s.current.body.size() + n > s.limits.max_body_bytes) {
      s.error_status = 413;
      return HPE_USER;
    }
    s.current.body.append(at, n);
    return HPE_OK;
  }

  static int on_message_complete(llhttp_t* p) {
    auto& s = of(p);
    s.in_message = false;
    // An upgrade (WebSocket, CONNECT) is answered as a plain request, and then the
    // connection ends: the bytes after it are not HTTP/1.1 and no handler takes them.
    bool keep_alive = llhttp_should_keep_alive(p) != 0 && llhttp_get_upgrade(p) == 0;
    Response response = s.call_handler();
    for (const auto& h : response.headers)
      if (iequals(h.name, "connection") && has_token(h.value, "close")) keep_alive = false;
    const ResponseFraming framing{.head_request = s.current.method == "HEAD",
                                  .keep_alive = keep_alive,
                                  .http10 = s.current.http_major == 1 && s.current.http_minor == 0};
    s.out.push_back(serialize_response(std::move(response), framing));
    s.produced += s.out.back().size();
    ++s.answered;
    if (!keep_alive) {
      // Stop here: whatever follows a closing exchange is not parsed.
      s.closing = true;
      return HPE_PAUSED;
    }
    if (s.produced >= s.limits.max_pending_output) {
      s.paused = true;
      return HPE_PAUSED;
    }
    return HPE_OK;
  }

  void execute(std::string_view bytes) {
    const llhttp_errno_t err = llhttp_execute(&parser, bytes.data(), bytes.size());
    if (err == HPE_OK || closing) return;
    if (err == HPE_PAUSED && paused) {
      // llhttp stopped right after the message; the rest waits for resume().
      const auto consumed = static_cast<std::size_t>(llhttp_get_error_pos(&parser) - bytes.data());
      held.assign(bytes.substr(consumed));
      return;
    }
    if (err == HPE_PAUSED_UPGRADE) {
      closing = true;
      return;
    }
    fail(error_status != 0 ? error_status : 400);
  }

  Response call_handler() {
    try {
      return handler(current);
    } catch (const std::exception&) {
      // A throwing handler costs its request a 500, not the process.
    } catch (...) {
    }
    Response r;
    r.status = 500;
    r.headers.push_back({"Content-Type", "text/plain"});
    r.body = "Internal Server Error\n";
    return r;
  }

  void fail(int status) {
    out.push_back(error_response(status));
    closing = true;
    in_message = false;
  }
};

HttpSession::HttpSession(Handler handler, HttpLimits limits)
    : impl_(std::make_unique<Impl>(std::move(handler), limits)) {}

HttpSession::~HttpSession() = default;

void HttpSession::feed(std::string_view bytes) {
  auto& s = *impl_;
  if (s.closing || bytes.empty()) return;
  if (s.paused) {
    s.held.append(bytes);  // a read that was under way when the edge stopped reading
    return;
  }
  s.execute(bytes);
}

bool HttpSession::paused() const { return impl_->paused; }

void HttpSession::resume() {
  auto& s = *impl_;
  if (!s.paused || s.closing) return;
  s.paused = false;
  llhttp_resume(&s.parser);
  const std::string input = std::exchange(s.held, {});
  s.execute(input);  // may pause again, holding the rest
  if (!s.paused && s.peer_done) finish();
}

void HttpSession::finish() {
  auto& s = *impl_;
  s.peer_done = true;
  if (s.paused) return;  // resume() answers what is held, then finishes
  s.closing = true;
  s.in_message = false;
}

void HttpSession::close() {
  auto& s = *impl_;
  s.closing = true;
  s.paused = false;
  s.in_message = false;
  s.held.clear();
}

void HttpSession::timeout() {
  if (!impl_->closing) impl_->fail(408);
}

bool HttpSession::closing() const { return impl_->closing; }
bool HttpSession::idle() const { return !impl_->in_message; }
bool HttpSession::has_output() const { return !impl_->out.empty(); }
std::size_t HttpSession::requests() const { return impl_->answered; }

std::vector<SerializedResponse> HttpSession::take_output() {
  std::vector<SerializedResponse> taken;
  taken.swap(impl_->out);
  impl_->produced = 0;
  return taken;
}

}  // namespace handoff
