// HTTP.SYS, the worker's side: a thread receives requests from the queue the master
// duplicated into this process, with overlapped I/O and a stop event; responses go out
// whole in one HttpSendHttpResponse (HttpSendResponseEntityBody, for streaming, is not
// implemented in wine 8).
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#include <windows.h>
#include <http.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdio>
#include <cstring>
#include <string_view>
#include <thread>
#include <vector>

#include "worker-sdk/cpp/src/cache_note.h"
#include "worker-sdk/cpp/src/response_writer.h"

#include "../httpsys.h"

// mingw-w64's http.h lacks these (Windows SDK values, documented with HttpCreateRequestQueue
// and HttpReceiveHttpRequest).
#ifndef HTTP_CREATE_REQUEST_QUEUE_FLAG_OPEN_EXISTING
#define HTTP_CREATE_REQUEST_QUEUE_FLAG_OPEN_EXISTING 0x00000001  // not used: wine lacks it
#endif
#ifndef HTTP_RECEIVE_REQUEST_FLAG_COPY_BODY
#define HTTP_RECEIVE_REQUEST_FLAG_COPY_BODY 0x00000001
#endif

namespace handoff::platform {
namespace {

// HTTP_HEADER_ID names: 0..19 are shared by requests and responses, 20.. differ.
constexpr std::array<std::string_view, 20> kCommonHeaders = {
    "Cache-Control", "Connection",       "Date",          "Keep-Alive",       "Pragma",
    "Trailer",       "Transfer-Encoding", "Upgrade",      "Via",              "Warning",
    "Allow",         "Content-Length",   "Content-Type",  "Content-Encoding", "Content-Language",
    "Content-Location", "Content-MD5",   "Content-Range", "Expires",          "Last-Modified"};
constexpr std::array<std::string_view, 21> kRequestHeaders = {
    "Accept",   "Accept-Charset", "Accept-Encoding", "Accept-Language",    "Authorization",
    "Cookie",   "Expect",         "From",            "Host",               "If-Match",
    "If-Modified-Since", "If-None-Match", "If-Range", "If-Unmodified-Since", "Max-Forwards",
    "Proxy-Authorization", "Referer", "Range",       "TE",                 "Translate",
    "User-Agent"};
constexpr std::array<std::string_view, 10> kResponseHeaders = {
    "Accept-Ranges", "Age", "ETag", "Location", "Proxy-Authenticate", "Retry-After", "Server", "Set-Cookie", "Vary",
    "WWW-Authenticate"};

int response_header_id(std::string_view name) {
  for (std::size_t i = 0; i < kCommonHeaders.size(); ++i)
    if (iequals(name, kCommonHeaders[i])) return static_cast<int>(i);
  for (std::size_t i = 0; i < kResponseHeaders.size(); ++i)
    if (iequals(name, kResponseHeaders[i])) return static_cast<int>(20 + i);
  return -1;
}

std::string method_of(const HTTP_REQUEST& r) {
  if (r.Verb == HttpVerbUnknown || r.pUnknownVerb)
    return std::string(r.pUnknownVerb, r.UnknownVerbLength);
  static constexpr std::string_view kVerbs[] = {"",      "",      "",     "OPTIONS", "GET",    "HEAD",   "POST",
                                                "PUT",   "DELETE", "TRACE", "CONNECT", "TRACK", "MOVE",   "COPY",
                                                "PROPFIND", "PROPPATCH", "MKCOL", "LOCK", "UNLOCK", "SEARCH"};
  const auto v = static_cast<std::size_t>(r.Verb);
  return v < std::size(kVerbs) ? std::string(kVerbs[v]) : std::string();
}

class WinReceiver final : public HttpSysReceiver {
 public:
  WinReceiver(HANDLE queue, std::size_t max_body, std::function<void(HttpSysRequest)> on_request,
              std::function<void(std::string)> on_stopped)
      : queue_(queue), max_body_(max_body), on_request_(std::move(on_request)), on_stopped_(std::move(on_stopped)) {}

  ~WinReceiver() override {
    stop();
    if (thread_.joinable()) thread_.join();
    if (stop_event_) CloseHandle(stop_event_);
  }

  bool begin(std::string& error) {
    stop_event_ = CreateEventW(nullptr, TRUE, FALSE, nullptr);
    if (!stop_event_) {
      error = "CreateEvent failed: " + std::to_string(GetLastError());
      return false;
    }
    thread_ = std::thread([this] { run(); });
    return true;
  }

  void stop() override {
    if (stop_event_) SetEvent(stop_event_);
  }

  bool respond(std::uint64_t id, const Response& response, std::optional<std::uint32_t> cache_seconds,
               std::string& error) override {
    HTTP_RESPONSE r{};
    r.Version = HTTP_VERSION{1, 1};
    r.StatusCode = static_cast<USHORT>(response.status);
    const std::string_view reason = reason_phrase(response.status);
    r.pReason = reason.data();
    r.ReasonLength = static_cast<USHORT>(reason.size());
    std::vector<HTTP_UNKNOWN_HEADER> unknown;
    for (const auto& h : response.headers) {
      if (!writes_header(h)) continue;  // framing is HTTP.SYS's
      const int known = response_header_id(h.name);
      if (known >= 0 && r.Headers.KnownHeaders[known].pRawValue == nullptr) {
        r.Headers.KnownHeaders[known].pRawValue = h.value.c_str();
        r.Headers.KnownHeaders[known].RawValueLength = static_cast<USHORT>(h.value.size());
        continue;
      }
      HTTP_UNKNOWN_HEADER u{};
      u.pName = h.name.c_str();
      u.NameLength = static_cast<USHORT>(h.name.size());
      u.pRawValue = h.value.c_str();
      u.RawValueLength = static_cast<USHORT>(h.value.size());
      unknown.push_back(u);
    }
    r.Headers.UnknownHeaderCount = static_cast<USHORT>(unknown.size());
    r.Headers.pUnknownHeaders = unknown.empty() ? nullptr : unknown.data();
    HTTP_DATA_CHUNK chunk{};
    if (!response.body.empty()) {
      chunk.DataChunkType = HttpDataChunkFromMemory;
      chunk.FromMemory.pBuffer = const_cast<char*>(response.body.data());
      chunk.FromMemory.BufferLength = static_cast<ULONG>(response.body.size());
      r.EntityChunkCount = 1;
      r.pEntityChunks = &chunk;
    }
    // HTTP.SYS's kernel cache keeps it for that long (docs/cache.md, "HTTP.SYS mode"); wine 8
    // takes the policy and ignores it.
    HTTP_CACHE_POLICY policy{};
    policy.Policy = HttpCachePolicyTimeToLive;
    policy.SecondsToLive = cache_seconds.value_or(0);
    bool gave_up = false;
    const unsigned long rc = fallback_.send(
        cache_seconds.has_value(),
        [&](bool with_policy) -> unsigned long {
          ULONG sent = 0;
          return HttpSendHttpResponse(queue_, id, 0, &r, with_policy ? &policy : nullptr, &sent, nullptr, 0, nullptr,
                                      nullptr);
        },
        gave_up);
    if (gave_up)
      std::fprintf(stderr,
                   "handoff worker: HTTP.SYS refused HttpSendHttpResponse with a cache policy and took it without; "
                   "responses go out without HTTP_CACHE_POLICY from now on (not kept in HTTP.SYS's cache)\n");
    if (rc != NO_ERROR) {
      error = "HttpSendHttpResponse failed: error " + std::to_string(rc);
      return false;
    }
    return true;
  }

 private:
  // One receive, overlapped, so that stop() can interrupt the wait. Returns NO_ERROR,
  // an error, or ERROR_OPERATION_ABORTED when stopped.
  struct Pending {
    OVERLAPPED overlapped{};
    std::vector<char> buffer;
  };

  ULONG receive(Pending& p, HTTP_REQUEST_ID id, ULONG& got) {
    p.overlapped = OVERLAPPED{};
    p.overlapped.hEvent = io_event_;
    ResetEvent(io_event_);
    auto* request = reinterpret_cast<HTTP_REQUEST*>(p.buffer.data());
    ULONG rc = HttpReceiveHttpRequest(queue_, id, HTTP_RECEIVE_REQUEST_FLAG_COPY_BODY, request,
                                      static_cast<ULONG>(p.buffer.size()), nullptr, &p.overlapped);
    if (rc != ERROR_IO_PENDING && rc != NO_ERROR) return rc;
    HANDLE both[2] = {io_event_, stop_event_};
    const DWORD which = WaitForMultipleObjects(2, both, FALSE, INFINITE);
    if (which == WAIT_OBJECT_0 + 1) {
      CancelIoEx(queue_, &p.overlapped);
      // A request may have completed the receive meanwhile; it is served then.
      if (WaitForSingleObject(io_event_, 2000) != WAIT_OBJECT_0) {
        abandoned_ = true;  // the I/O may still write into p: it is never freed
        return ERROR_OPERATION_ABORTED;
      }
    }
    DWORD bytes = 0;
    const BOOL ok = GetOverlappedResult(queue_, &p.overlapped, &bytes, FALSE);
    got = bytes;  // with ERROR_MORE_DATA: the size the request needs
    return ok ? NO_ERROR : GetLastError();
  }

  void run() {
    io_event_ = CreateEventW(nullptr, TRUE, FALSE, nullptr);
    std::string why;
    auto* pending = new Pending;
    pending->buffer.resize(64 * 1024);
    while (WaitForSingleObject(stop_event_, 0) != WAIT_OBJECT_0) {
      ULONG got = 0;
      ULONG rc = receive(*pending, HTTP_NULL_ID, got);
      if (rc == ERROR_MORE_DATA) {
        // The buffer was too small for the head: the same request again, with room.
        const auto* partial = reinterpret_cast<const HTTP_REQUEST*>(pending->buffer.data());
        const HTTP_REQUEST_ID id = partial->RequestId;
        pending->buffer.resize(std::max<std::size_t>(pending->buffer.size() * 4, got + 1024));
        rc = receive(*pending, id, got);
      }
      if (rc == ERROR_OPERATION_ABORTED) break;
      if (rc != NO_ERROR) {
        why = "HttpReceiveHttpRequest failed: error " + std::to_string(rc);
        break;
      }
      deliver(*reinterpret_cast<const HTTP_REQUEST*>(pending->buffer.data()));
    }
    if (!abandoned_) delete pending;
    CloseHandle(io_event_);
    on_stopped_(why);
  }

  void deliver(const HTTP_REQUEST& r) {
    HttpSysRequest out;
    out.id = r.RequestId;
    Request& req = out.request;
    req.method = method_of(r);
    req.target.assign(r.pRawUrl ? r.pRawUrl : "", r.RawUrlLength);
    req.http_major = r.Version.MajorVersion;
    req.http_minor = r.Version.MinorVersion;
    for (int i = 0; i < HttpHeaderRequestMaximum; ++i) {
      const auto& h = r.Headers.KnownHeaders[i];
      if (!h.pRawValue) continue;
      const std::string_view name = i < 20 ? kCommonHeaders[static_cast<std::size_t>(i)]
                                           : kRequestHeaders[static_cast<std::size_t>(i - 20)];
      req.headers.push_back({std::string(name), std::string(h.pRawValue, h.RawValueLength)});
    }
    for (USHORT i = 0; i < r.Headers.UnknownHeaderCount; ++i) {
      const auto& h = r.Headers.pUnknownHeaders[i];
      req.headers.push_back({std::string(h.pName, h.NameLength), std::string(h.pRawValue, h.RawValueLength)});
    }
    for (USHORT i = 0; i < r.EntityChunkCount; ++i) {
      const auto& c = r.pEntityChunks[i];
      if (c.DataChunkType == HttpDataChunkFromMemory)
        req.body.append(static_cast<const char*>(c.FromMemory.pBuffer), c.FromMemory.BufferLength);
    }
    // The rest of a body larger than what came with the head.
    if (r.Flags & HTTP_REQUEST_FLAG_MORE_ENTITY_BODY_EXISTS) {
      std::vector<char> chunk(64 * 1024);
      for (;;) {
        ULONG got = 0;
        const ULONG rc = HttpReceiveRequestEntityBody(queue_, r.RequestId, 0, chunk.data(),
                                                      static_cast<ULONG>(chunk.size()), &got, nullptr);
        if (rc == NO_ERROR || rc == ERROR_HANDLE_EOF) req.body.append(chunk.data(), got);
        if (rc != NO_ERROR) break;
        if (req.body.size() > max_body_) break;
      }
    }
    out.too_large = req.body.size() > max_body_;
    on_request_(std::move(out));
  }

  HANDLE queue_;
  std::size_t max_body_;
  std::function<void(HttpSysRequest)> on_request_;
  std::function<void(std::string)> on_stopped_;
  HANDLE stop_event_ = nullptr;
  HANDLE io_event_ = nullptr;
  bool abandoned_ = false;
  std::thread thread_;
  KernelCacheFallback fallback_;
};

}  // namespace

std::unique_ptr<HttpSysReceiver> HttpSysReceiver::start(std::uint64_t queue, std::size_t max_body,
                                                        std::function<void(HttpSysRequest)> on_request,
                                                        std::function<void(std::string)> on_stopped,
                                                        std::string& error) {
  auto receiver = std::make_unique<WinReceiver>(reinterpret_cast<HANDLE>(static_cast<std::uintptr_t>(queue)),
                                                max_body, std::move(on_request), std::move(on_stopped));
  if (!receiver->begin(error)) return nullptr;
  return receiver;
}

}  // namespace handoff::platform
