#include "worker-sdk/cpp/src/http_session.h"

#include <llhttp.h>

#include "responder_state.h"

#include <exception>
#include <optional>
#include <string>
#include <utility>

namespace handoff {

namespace {

bool is_blank(char c) { return c == ' ' || c == '\t'; }

// Whether the bytes before `at` end in a line break and then nothing but blanks. They
// may reach back past `begin`, where the buffer being parsed starts: `before` says it for
// the bytes parsed before that buffer.
bool after_line_break(const char* begin, const char* at, bool before) {
  while (at != begin && is_blank(at[-1])) --at;
  return at == begin ? before : at[-1] == '\n';
}

// HTTP/1.1 (or a later 1.x), which requires Host and knows 100 Continue.
bool http11(const Request& r) { return r.http_major == 1 && r.http_minor >= 1; }

// RFC 9112 3.2: a server answers 400 to an HTTP/1.1 request without Host, and to any
// request with more than one.
bool host_count_ok(const Request& r) {
  std::size_t hosts = 0;
  for (const auto& h : r.headers) hosts += iequals(h.name, "host") ? 1 : 0;
  return hosts == 1 || (hosts == 0 && !http11(r));
}

}  // namespace

// Request boundaries, in parse order: on_message_begin (a request starts: its first byte),
// on_headers_complete (its head is known and no body byte is consumed yet: where a
// request after the first can be checked before anything is done with it, e.g. whether
// the connection should go back to the master), on_message_complete (dispatch to the
// handler). Everything that decides the response's framing happens in respond().
struct HttpSession::Impl {
  Impl(AnyHandler h, HttpLimits l, unsigned keep_alive_ms)
      : handler(std::move(h)), limits(l), keep_alive_timeout_s(keep_alive_ms / 1000) {
    llhttp_init(&parser, HTTP_REQUEST, &settings());
    parser.data = this;
  }

  AnyHandler handler;
  HttpLimits limits;
  unsigned keep_alive_timeout_s;  // announced in Keep-Alive; 0 (under a second): not announced
  llhttp_t parser{};

  // The request being parsed. llhttp hands out spans that may be cut at any byte
  // (the end of one feed), so every span is appended, never assigned.
  Request current;
  std::string peer_address;  // copied into each request
  int peer_port = 0;
  std::string field, value;
  std::size_t head_bytes = 0;
  bool headers_done = false;
  bool in_message = false;
  std::size_t begun = 0;  // requests whose first byte has arrived

  // Where the current request starts, for a handback: its first byte in the buffer being
  // parsed (llhttp hands out the method's span from its first byte), or null when it
  // began in an earlier feed, whose bytes of it are then kept in head_so_far until its
  // head is complete (at most max_header_size: the check comes at headers-complete).
  std::function<bool(const Request&)> belongs;
  const char* buffer_begin = nullptr;  // the buffer llhttp is parsing
  const char* buffer_end = nullptr;
  bool line_break_before = false;  // after_line_break() of the bytes parsed before the buffer
  const char* request_start = nullptr;
  bool start_seen = false;
  std::string head_so_far;
  bool handing_back = false;
  std::string handback;  // the bytes read and not served, once handing_back

  bool closing = false;
  bool paused = false;
  bool draining = false;
  bool peer_done = false;    // EOF seen; close once the held bytes are parsed
  std::string held;          // bytes received while paused or awaiting
  std::size_t produced = 0;  // response bytes since the last take_output()
  int error_status = 0;  // set by refuse(), for a callback that aborts the parse
  std::size_t answered = 0;
  std::vector<SerializedResponse> out;

  // The answer to the request that just completed: its framing as the request decided
  // it, and the response once the handler has given it (held back while draining until
  // we know whether more requests follow it).
  ResponseFraming framing;
  std::optional<Response> pending;
  std::shared_ptr<Responder::State> awaiting;  // an AsyncHandler has not answered yet
  bool in_handler = false;
  std::function<void()> async_output;

  // The master's output cache (offer_cache()): absent, nothing is judged.
  std::optional<ipc::CacheOffer> cache;
  bool fill = false;  // conn.fill: the first request's key is held by the master
  // That request's pass, from its complete head until a note about it is queued.
  std::optional<ipc::CachePass> fill_owed;
  std::vector<CacheNote> cache_notes;
  // The master's shared table: later requests it holds a fresh entry for are answered from
  // it (cache_hit.h), without the handler and without a note.
  std::shared_ptr<cache_table::Reader> table;
  bool from_table = false;  // the pending response came from the table
  std::size_t table_hits = 0;

  static Impl& of(llhttp_t* p) { return *static_cast<Impl*>(p->data); }

  static const llhttp_settings_t& settings() {
    static const llhttp_settings_t s = [] {
      llhttp_settings_t x;
      llhttp_settings_init(&x);
      x.on_message_begin = on_message_begin;
      x.on_method = on_method;
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

  // Aborts the parse: execute() answers `status` and closes.
  int refuse(int status) {
    error_status = status;
    return HPE_USER;
  }

  // Head bytes are capped so a peer cannot grow memory with endless headers.
  int count_head(std::size_t n) {
    head_bytes += n;
    return head_bytes <= limits.max_header_size ? HPE_OK : refuse(431);
  }

  static int on_message_begin(llhttp_t* p) {
    auto& s = of(p);
    s.current = Request{};
    s.current.remote_address = s.peer_address;
    s.current.remote_port = s.peer_port;
    s.field.clear();
    s.value.clear();
    s.head_bytes = 0;
    s.headers_done = false;
    s.in_message = true;
    s.request_start = nullptr;
    s.start_seen = false;
    s.head_so_far.clear();
    ++s.begun;
    return HPE_OK;
  }

  // The method's first span starts at the request's first byte.
  static int on_method(llhttp_t* p, const char* at, std::size_t n) {
    auto& s = of(p);
    (void)n;  // counted by llhttp's own method limits, as before this callback existed
    if (!s.start_seen) {
      s.start_seen = true;
      s.request_start = at;
    }
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
    // llhttp 8 takes a line that begins with a blank (obs-fold) as more of the value above
    // it; RFC 9112 5.2 lets a server refuse it with 400, and Node does. llhttp starts a
    // value after the blanks that follow its colon, so one that follows a line break (and
    // blanks) is such a line. (An empty value comes as an empty span after its line.)
    if (n != 0 && after_line_break(s.buffer_begin, at, s.line_break_before)) return s.refuse(400);
    if (!s.headers_done) s.value.append(at, n);
    return HPE_OK;
  }

  static int on_header_value_complete(llhttp_t* p) {
    auto& s = of(p);
    if (!s.headers_done) {
      // llhttp 8 takes a line that begins with its colon; a field name is a token, at
      // least one character (RFC 9112 5.1), and Node refuses it too.
      if (s.field.empty()) return s.refuse(400);
      s.current.headers.push_back({std::move(s.field), std::move(s.value)});
    }
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
    // A request after the first that belongs to another worker: stop before its body, and
    // keep every byte from its first on (the check comes before the limits and the 100
    // Continue: the worker it goes to applies its own).
    if (s.begun > 1 && s.belongs && !s.belongs(s.current)) {
      s.handing_back = true;
      s.handback = std::exchange(s.head_so_far, {});
      s.handback.append(s.request_start != nullptr ? s.request_start : s.buffer_begin, s.buffer_end);
      s.in_message = false;
      return HPE_PAUSED;
    }
    s.head_so_far.clear();
    s.head_so_far.shrink_to_fit();
    // From here on whatever ends this request answers the master's fill, a refusal too.
    if (s.fill && s.begun == 1) s.fill_owed = cache_pass(s.current);
    if (!host_count_ok(s.current)) return s.refuse(400);
    // A declared body over the limit is refused before any of it is read (and before a
    // 100 Continue invites it). A chunked one is counted as it comes (on_body).
    if ((p->flags & F_CONTENT_LENGTH) != 0 && p->content_length > s.limits.max_body_size)
      return s.refuse(413);  // llhttp reports it as HPE_CB_HEADERS_COMPLETE; error_status says why
    // Like Node's server without a 'checkContinue' listener: a client that waits for
    // permission to send its body (curl does above 1 KiB) gets it at once.
    if (http11(s.current) && iequals(s.current.header("expect"), "100-continue"))
      s.out.push_back(continue_response());
    return HPE_OK;
  }

  static int on_body(llhttp_t* p, const char* at, std::size_t n) {
    auto& s = of(p);
    if (s.current.body.size() + n > s.limits.max_body_size) return s.refuse(413);
    s.current.body.append(at, n);
    return HPE_OK;
  }

  static int on_message_complete(llhttp_t* p) {
    auto& s = of(p);
    s.in_message = false;
    // An upgrade (WebSocket, CONNECT) is answered as a plain request, and then the
    // connection ends: the bytes after it are not HTTP/1.1 and no handler takes them.
    s.framing = ResponseFraming{.head_request = s.current.method == "HEAD",
                                .keep_alive = llhttp_should_keep_alive(p) != 0 && llhttp_get_upgrade(p) == 0,
                                .http10 = s.current.http_major == 1 && s.current.http_minor == 0};
    if (!s.answer_from_table()) s.call_handler();
    // Stopping here keeps an awaited response in its place, and lets a draining session
    // see whether more bytes follow (execute() answers then).
    if (s.awaiting || s.draining) return HPE_PAUSED;
    s.respond(std::move(*std::exchange(s.pending, std::nullopt)), /*more_buffered=*/true);
    if (s.closing) return HPE_PAUSED;  // whatever follows a closing exchange is not parsed
    if (s.produced >= s.limits.max_pending_output) {
      s.paused = true;
      return HPE_PAUSED;
    }
    return HPE_OK;
  }

  // Queues the response to the last complete request. It is the connection's last when the
  // request or the handler says close, when max_requests_per_socket is reached, or when
  // draining with no more request bytes already buffered behind it.
  void respond(Response response, bool more_buffered) {
    const std::size_t max = limits.max_requests_per_socket;
    const bool quota_reached = max != 0 && answered + 1 >= max;
    bool keep_alive = framing.keep_alive && !quota_reached && !(draining && !more_buffered);
    for (const auto& h : response.headers)
      if (iequals(h.name, "connection") && has_token(h.value, "close")) keep_alive = false;
    ResponseFraming f = framing;
    f.keep_alive = keep_alive;
    f.keep_alive_timeout_s = keep_alive_timeout_s;
    f.keep_alive_max = max != 0 ? max - (answered + 1) : 0;
    if (cache && !std::exchange(from_table, false)) note_for_cache(response);  // before the body moves
    out.push_back(serialize_response(std::move(response), f));
    produced += out.back().size();
    ++answered;
    if (!keep_alive) closing = true;
  }

  void execute(std::string_view bytes) {
    for (;;) {
      buffer_begin = bytes.data();
      buffer_end = bytes.data() + bytes.size();
      request_start = nullptr;
      const llhttp_errno_t err = llhttp_execute(&parser, bytes.data(), bytes.size());
      // After a pause, the rest of the buffer (parsed next) begins a request: no value
      // continues into it, so only a buffer parsed to its end counts.
      if (err == HPE_OK) line_break_before = after_line_break(buffer_begin, buffer_end, line_break_before);
      if (handing_back) return;
      // A head still incomplete at the end of this buffer: keep its bytes so far.
      if (belongs && in_message && !headers_done && start_seen)
        head_so_far.append(request_start != nullptr ? request_start : buffer_begin, buffer_end);
      if (err == HPE_OK || closing) return;
      if (err == HPE_PAUSED_UPGRADE) {
        closing = true;
        return;
      }
      if (err != HPE_PAUSED) return fail(error_status != 0 ? error_status : 400);
      // llhttp stopped right after a message; what follows it waits, or is parsed next.
      bytes.remove_prefix(static_cast<std::size_t>(llhttp_get_error_pos(&parser) - bytes.data()));
      if (pending) {  // draining: now we know whether more follows
        respond(std::move(*std::exchange(pending, std::nullopt)), !bytes.empty());
        if (closing) return;
        if (produced >= limits.max_pending_output) paused = true;
      }
      if (paused || awaiting) {
        held.assign(bytes);
        return;
      }
      llhttp_resume(&parser);
    }
  }

  // Parses what was held while paused or awaiting.
  void continue_held() {
    llhttp_resume(&parser);
    const std::string input = std::exchange(held, {});
    execute(input);  // may stop again, holding the rest
    if (!paused && !awaiting && peer_done) end_input();
  }

  // Everything received is answered; a partial request is dropped unanswered.
  void end_input() {
    settle_fill();
    closing = true;
    in_message = false;
  }

  // Sets `pending` from the shared table when it has a fresh entry for the request. Never
  // the first request of a fill: the master waits to hear of that one from the app.
  bool answer_from_table() {
    if (!table || (fill && begun == 1)) return false;
    auto hit = cached_response(*table, current, std::chrono::steady_clock::now(), std::chrono::system_clock::now());
    if (!hit) return false;
    pending = std::move(*hit);
    from_table = true;
    ++table_hits;
    return true;
  }

  // Sets `pending`, or `awaiting` when an AsyncHandler answers later.
  void call_handler() {
    try {
      if (auto* sync = std::get_if<Handler>(&handler)) {
        pending = (*sync)(current);
        return;
      }
      awaiting = std::make_shared<Responder::State>(Responder::State{this, nullptr});
      in_handler = true;
      std::get<AsyncHandler>(handler)(current, Responder(awaiting));
      in_handler = false;
      return;
    } catch (const std::exception&) {
      // A throwing handler costs its request a 500, not the process.
    } catch (...) {
    }
    in_handler = false;
    if (pending && !awaiting) return;  // it answered, then threw: the answer stands
    awaiting.reset();
    pending = error_text(500);
  }

  // A Responder's send().
  void deliver(Response response) {
    awaiting.reset();
    if (in_handler) {  // answered at once: on_message_complete carries on
      pending = std::move(response);
      return;
    }
    respond(std::move(response), !held.empty());
    if (!closing) {
      if (produced >= limits.max_pending_output)
        paused = true;
      else
        continue_held();
    }
    // Last: the edge may destroy this session from inside the callback.
    if (auto callback = async_output) callback();
  }

  // The response to `current` is complete: a put when it is worth keeping (its body is
  // copied then, and only then), else the fill's pass if this request owes one.
  void note_for_cache(const Response& response) {
    if (worth_caching(current, response, cache->max_entry)) {
      cache_notes.emplace_back(cache_put(current, response));
      fill_owed.reset();
      return;
    }
    settle_fill();
  }

  // The fill request ends without a response worth keeping: the master stops holding its key.
  void settle_fill() {
    if (fill_owed) cache_notes.emplace_back(*std::exchange(fill_owed, std::nullopt));
  }

  void fail(int status) {
    settle_fill();
    out.push_back(error_response(status));
    closing = true;
    in_message = false;
  }
};

void Responder::send(Response response) const {
  auto state = state_.lock();
  if (!state) return;
  if (state->session) state->session->deliver(std::move(response));
  else if (auto deliver = std::exchange(state->elsewhere, nullptr)) deliver(std::move(response));
}

HttpSession::HttpSession(AnyHandler handler, HttpLimits limits, unsigned keep_alive_timeout_ms)
    : impl_(std::make_unique<Impl>(std::move(handler), limits, keep_alive_timeout_ms)) {}

HttpSession::~HttpSession() = default;

void HttpSession::feed(std::string_view bytes) {
  auto& s = *impl_;
  if (s.handing_back) {
    s.handback.append(bytes);  // a read that was under way when the edge stopped reading
    return;
  }
  if (s.closing || bytes.empty()) return;
  if (s.paused || s.awaiting) {
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
  s.continue_held();
}

void HttpSession::finish() {
  auto& s = *impl_;
  s.peer_done = true;
  // Held requests are answered first (resume(), or the awaited response), then it ends.
  if (s.paused || s.awaiting) return;
  s.end_input();
}

void HttpSession::close() {
  auto& s = *impl_;
  s.settle_fill();  // its response will never come
  s.closing = true;
  s.paused = false;
  s.in_message = false;
  s.held.clear();
  s.awaiting.reset();  // a later send() finds nothing
}

void HttpSession::timeout() {
  auto& s = *impl_;
  if (s.closing || s.awaiting) return;
  // A 408 only to a client that is still sending a request; between requests (or before
  // the first) there is no one to answer, the connection just ends.
  if (s.in_message)
    s.fail(408);
  else
    close();
}

void HttpSession::drain() { impl_->draining = true; }

bool HttpSession::closable() const { return impl_->draining && between_requests(); }

bool HttpSession::between_requests() const {
  const auto& s = *impl_;
  return !s.closing && s.answered > 0 && !s.in_message && !s.awaiting && !s.paused && s.held.empty();
}

bool HttpSession::waiting() const { return impl_->awaiting != nullptr; }

void HttpSession::on_async_output(std::function<void()> callback) { impl_->async_output = std::move(callback); }

bool HttpSession::closing() const { return impl_->closing; }
bool HttpSession::idle() const { return !impl_->in_message && !impl_->awaiting; }
bool HttpSession::receiving_head() const { return impl_->in_message && !impl_->headers_done; }
std::size_t HttpSession::requests_begun() const { return impl_->begun; }
bool HttpSession::has_output() const { return !impl_->out.empty(); }
std::size_t HttpSession::requests() const { return impl_->answered; }

void HttpSession::check_requests(std::function<bool(const Request&)> belongs) { impl_->belongs = std::move(belongs); }

void HttpSession::set_peer(std::string address, int port) {
  impl_->peer_address = std::move(address);
  impl_->peer_port = port;
}
bool HttpSession::handing_back() const { return impl_->handing_back; }
std::string HttpSession::take_handback_bytes() { return std::exchange(impl_->handback, {}); }

void HttpSession::offer_cache(ipc::CacheOffer offer, bool fill, std::shared_ptr<cache_table::Reader> table) {
  impl_->cache = std::move(offer);
  impl_->fill = fill;
  impl_->table = std::move(table);
}
std::size_t HttpSession::table_hits() const { return impl_->table_hits; }
bool HttpSession::has_cache_notes() const { return !impl_->cache_notes.empty(); }
std::vector<CacheNote> HttpSession::take_cache_notes() { return std::exchange(impl_->cache_notes, {}); }

std::vector<SerializedResponse> HttpSession::take_output() {
  std::vector<SerializedResponse> taken;
  taken.swap(impl_->out);
  impl_->produced = 0;
  return taken;
}

}  // namespace handoff
