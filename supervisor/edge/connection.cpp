#include "supervisor/edge/connection.h"

#include <cstring>

#include "supervisor/core/address.h"
#include "supervisor/core/ip_text.h"
#include "supervisor/platform/platform.h"
#include "uvglue/timer.h"
#include "uvglue/uv_write.h"

namespace handoff {

namespace {

#if defined(__SANITIZE_ADDRESS__)  // GCC's; clang's is __has_feature(address_sanitizer)
#define HANDOFF_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HANDOFF_ASAN 1
#endif
#endif
#if defined(HANDOFF_ASAN)
constexpr std::size_t kSpareConnections = 0;  // AddressSanitizer must see every allocation
#else
constexpr std::size_t kSpareConnections = 256;  // a burst's worth; beyond it, malloc's again
#endif

// Freed connections' memory, for the next ones. Trivially destructible, so usable until
// the thread's very end (a connection destroyed late in exit still finds it); what it holds
// then stays reachable from it. (The master's loop is one thread, but nothing stops another
// from making a Connection.)
struct SpareConnections {
  void* blocks[kSpareConnections > 0 ? kSpareConnections : 1];
  std::size_t count;
};
thread_local constinit SpareConnections spare{};

}  // namespace

void* Connection::operator new(std::size_t size) {
  if (size == sizeof(Connection) && spare.count > 0) return spare.blocks[--spare.count];
  return ::operator new(size);
}

void Connection::operator delete(void* memory, std::size_t size) noexcept {
  if (size == sizeof(Connection) && spare.count < kSpareConnections) {
    spare.blocks[spare.count++] = memory;
    return;
  }
  ::operator delete(memory);
}

ipc::ConnView conn_of(const Connection& c) {
  return {.id = c.id,
          .remote_address = c.address_text,
          .remote_port = c.port,
          .listener = c.listener,
          .head = c.carried,
          .fill = c.fill,
          .plain = c.listener_plain};
}

namespace {

void store_address(Connection& c, const unsigned char* bytes, std::size_t length) {
  const auto canonical = canonical_address(bytes, length);
  std::memcpy(c.address.data(), canonical.data(), canonical.size());
  c.address_length = canonical.size();
}

}  // namespace

bool set_peer(Connection& c, const sockaddr& peer) {
  if (peer.sa_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(&peer);
    const auto* bytes = reinterpret_cast<const unsigned char*>(&in->sin_addr);
    store_address(c, bytes, 4);
    c.port = ntohs(in->sin_port);
    char text[15];
    const char* end = write_ipv4_text(std::span<const unsigned char, 4>(bytes, 4), text);
    c.address_text.assign(text, static_cast<std::size_t>(end - text));
  } else if (peer.sa_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&peer);
    const auto* bytes = reinterpret_cast<const unsigned char*>(&in6->sin6_addr);
    store_address(c, bytes, 16);
    c.port = ntohs(in6->sin6_port);
    c.address_text = ipv6_text(std::span<const unsigned char, 16>(bytes, 16));
  } else {
    return false;
  }
  return true;
}

bool read_peer_address(Connection& c) {
  sockaddr_storage peer{};
  int length = sizeof peer;
  uv_tcp_t* handle = c.socket.handle();
  if (!handle || uv_tcp_getpeername(handle, reinterpret_cast<sockaddr*>(&peer), &length) != 0) return false;
  return set_peer(c, reinterpret_cast<const sockaddr&>(peer));
}

bool set_peer_address(Connection& c, const std::string& text, int port) {
  unsigned char bytes[16];
  if (uv_inet_pton(AF_INET, text.c_str(), bytes) == 0) store_address(c, bytes, 4);
  else if (uv_inet_pton(AF_INET6, text.c_str(), bytes) == 0) store_address(c, bytes, 16);
  else return false;
  c.address_text = text;
  c.port = port;
  return true;
}

std::string_view reason_phrase(int status) {
  switch (status) {
    case 400: return "Bad Request";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 408: return "Request Timeout";
    case 421: return "Misdirected Request";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    default: return status < 500 ? "Client Error" : "Server Error";
  }
}

namespace {

// The answer goes out, then the master stops writing and reads (and drops) what the
// client still sends until it closes or a second passes. Closing at once with unread
// request bytes in the kernel would send a reset that can destroy the answer before
// the client reads it (the "lingering close" of nginx and Apache).
struct Rejection {
  ConnectionPtr connection;
  uv_shutdown_t shutdown{};
  Timer linger;

  void finish() { delete this; }
};

// Whether the client of a handed-back socket asked nothing: what the master knows first,
// then (only if that does not tell) one look at the kernel.
bool asked_nothing(const Connection& c) {
  if (!c.handed_back || c.asked || !c.carried.empty()) return false;
  char byte = 0;
  // 0: the client closed; UV_EAGAIN: nothing yet; UV_ENOSYS: no peeking here.
  return platform::peek_socket(c.socket.descriptor(), &byte, 1) <= 0;
}

}  // namespace

void reject(ConnectionPtr connection, int status, RejectionCounts& counts) {
  if (asked_nothing(*connection)) return;  // closes it
  ++counts[status];
  const std::string text = std::to_string(status) + " " + std::string(reason_phrase(status));
  auto response = std::make_unique<UvWrite>(
      "HTTP/1.1 " + text + "\r\nContent-Type: text/plain\r\nContent-Length: " + std::to_string(text.size() + 1) +
      (status == 503 ? "\r\nRetry-After: 1" : "") + "\r\nConnection: close\r\n\r\n" + text + "\n");
  auto* r = new Rejection{};
  r->connection = std::move(connection);
  uv_stream_t* stream = r->connection->socket.stream();
  if (!stream) return r->finish();  // libuv could not adopt it: closed unanswered
  stream->data = r;
  if (UvWrite::start(std::move(response), stream, [](UvWrite& written, int write_status) {
        auto* me = static_cast<Rejection*>(written.stream()->data);
        if (write_status != 0 || uv_shutdown(&me->shutdown, written.stream(), [](uv_shutdown_t* s, int) {
              auto* self = static_cast<Rejection*>(s->handle->data);
              self->linger = Timer(s->handle->loop);
              self->linger.start<&Rejection::finish>(self, 1000);
              const int rc = uv_read_start(
                  s->handle,
                  [](uv_handle_t*, std::size_t, uv_buf_t* out) {
                    static char sink[4096];
                    *out = uv_buf_init(sink, sizeof sink);
                  },
                  [](uv_stream_t* st, ssize_t n, const uv_buf_t*) {
                    if (n < 0) static_cast<Rejection*>(st->data)->finish();
                  });
              if (rc != 0) self->finish();
            }) != 0)
          me->finish();
      }) != 0)
    r->finish();
}

}  // namespace handoff
