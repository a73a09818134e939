// The IPC message catalogue: every message that crosses the channel between the
// supervisor and a worker, in one place. protocols/README.md documents each one; a unit
// test checks that every entry of kCatalogue appears there.
//
// Framing is Node's `json` serialization (see line_framer.h). Two families share it:
//  - Node's own handle-passing commands ({"cmd":"NODE_HANDLE", ...}, ACK, NACK), spoken
//    exactly as Node's child_process does, so a plain Node program can receive sockets;
//  - our messages, tagged {"handoff":"<type>","v":<version>, ...}.
// Anything else is "unknown" and ignored by both sides (forward compatibility).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "protocols/drain_rules.h"
#include "protocols/http_settings.h"
#include "protocols/route_key.h"

namespace handoff::ipc {

inline constexpr int kVersion = 1;

// Default cap on one message line; the supervisor takes its own from the config.
inline constexpr std::size_t kDefaultMaxMessageBytes = 1 << 20;

// A NACKed handle is sent again up to this many times, as Node's own sender does; a peer
// that NACKs more often in a row is broken, not unlucky.
inline constexpr int kMaxHandleResends = 3;

// The most handles the master keeps in flight to one worker (a worker's `hello` asks for a
// `window`; absent: 1, Node's receiver). The C++ SDK asks for this many: it takes each
// descriptor in its own read, so several may be on their way (protocols/README.md).
inline constexpr int kMaxHandleWindow = 16;

namespace names {
// Node's handle-passing commands (lib/internal/child_process.js).
inline constexpr std::string_view kHandle = "NODE_HANDLE";
// The whole ACK as Node and the C++ SDK write it, with its newline (the master matches it
// without parsing: one per hand-off), then the line without it; the command name is cut
// from it, so none of them can differ.
inline constexpr std::string_view kHandleAckWire = "{\"cmd\":\"NODE_HANDLE_ACK\"}\n";
inline constexpr std::string_view kHandleAckLine = kHandleAckWire.substr(0, kHandleAckWire.size() - 1);
inline constexpr std::string_view kHandleAck = kHandleAckLine.substr(8, 15);
inline constexpr std::string_view kHandleNack = "NODE_HANDLE_NACK";
inline constexpr std::string_view kSocketType = "net.Socket";
// A listening socket, as Node's child_process sends a net.Server: the receiving Node
// process gets a listening net.Server (lib/child_process.js, handleConversion).
inline constexpr std::string_view kServerType = "net.Server";
// Our message tags: the value of the "handoff" key.
inline constexpr std::string_view kHello = "hello";
inline constexpr std::string_view kWelcome = "welcome";
inline constexpr std::string_view kReady = "ready";
inline constexpr std::string_view kConn = "conn";
inline constexpr std::string_view kStats = "stats";
inline constexpr std::string_view kDrain = "drain";
inline constexpr std::string_view kHandback = "handback";
inline constexpr std::string_view kRoute = "route";
inline constexpr std::string_view kMetrics = "metrics";
inline constexpr std::string_view kMetricsText = "metrics_text";
inline constexpr std::string_view kListen = "listen";
inline constexpr std::string_view kCachePut = "cache_put";
inline constexpr std::string_view kCachePass = "cache_pass";
}  // namespace names

enum class Direction { to_worker, to_master, both };

struct CatalogueEntry {
  std::string_view name;
  Direction direction;
  std::string_view summary;
};

inline constexpr CatalogueEntry kCatalogue[] = {
    {names::kHandle, Direction::to_worker, "carries one socket (SCM_RIGHTS / WSADuplicateSocket) and a `conn` message"},
    {names::kHandleAck, Direction::to_master, "the socket arrived; the master closes its copy"},
    {names::kHandleNack, Direction::to_master, "the line arrived without its socket; the master resends (3 times at most)"},
    {names::kHello, Direction::to_master, "an SDK worker introduces itself (sdk name, protocol version, pid)"},
    {names::kWelcome, Direction::to_worker, "the answer to hello: app, slot, workers, generation"},
    {names::kReady, Direction::to_master, "the worker takes connections from now on"},
    {names::kConn, Direction::to_worker, "inside NODE_HANDLE: connection id, client address and port, listener"},
    {names::kStats, Direction::to_master, "heartbeat with counters: requests served, open connections, response bytes, RSS"},
    {names::kDrain, Direction::to_worker,
     "finish what is in flight, close keep-alive sockets (or hand idle ones back: `handback`), then exit"},
    {names::kHandback, Direction::to_master,
     "inside NODE_HANDLE: a keep-alive socket whose next request belongs to another slot (or that a draining "
     "worker gives up idle), with the bytes read"},
    {names::kRoute, Direction::to_worker,
     "a reload or a scale changed the app's rule, its shared ports' prefixes or its slot count: replaces "
     "welcome's `route` and `workers` at once"},
    {names::kListen, Direction::to_worker,
     "inside NODE_HANDLE of type `net.Server`: the slot's own listening socket (kernel dispatch), sent once after "
     "`welcome` (at spawn to a plain worker); the worker accepts from it until it drains"},
    {names::kMetrics, Direction::to_worker,
     "a /metrics scrape: send the app's own metrics (only to workers whose hello said `metrics`)"},
    {names::kMetricsText, Direction::to_master,
     "the answer to `metrics`: its id and the registry's Prometheus text (`sum`: add slots up)"},
    {names::kCachePut, Direction::to_master,
     "a response the worker marked cacheable (Cache-Control public with max-age/s-maxage, or cacheDuration), "
     "with the request's host, target and Accept-Encoding: the master stores it in the app's output cache"},
    {names::kCachePass, Direction::to_master,
     "the response to a `fill` request was not cacheable: the requests the master held for that key go to workers"},
};

// ---- Messages ---------------------------------------------------------------------

// Inside a NODE_HANDLE: what the master knows about the connection it hands over.
struct Conn {
  std::uint64_t id = 0;
  std::string remote_address;  // textual, "127.0.0.1" or "::1"
  int remote_port = 0;
  std::string listener;        // listener name from the config
  // Bytes of the connection the master consumed (a hand-back, or where it cannot peek):
  // the worker reads them before anything from the socket. JSON: base64, omitted if empty.
  std::string head;
  // The output cache holds other requests for the same key until this one is answered:
  // the worker answers its first request's response with `cache_put` or `cache_pass`.
  // JSON: present (true) only when set.
  bool fill = false;
};

struct Handle {  // {"cmd":"NODE_HANDLE","type":"net.Socket","msg":{...conn...}}
  Conn conn;
};
// A worker gives a connection back: {"cmd":"NODE_HANDLE","type":"net.Socket","msg":
// {"handoff":"handback",...}}. The master ACKs it like any handle and routes it again.
struct Handback {
  std::uint64_t id = 0;        // the connection's id from its `conn`
  std::string remote_address;  // from its `conn`: keeps a PROXY protocol source address
  int remote_port = 0;
  std::string listener;
  std::string head;            // bytes the worker read and did not serve, in order (base64 in JSON)
};
struct HandleAck {};
struct HandleNack {};
// Kernel dispatch: {"cmd":"NODE_HANDLE","type":"net.Server","msg":{"handoff":"listen",...}}
// with the slot's listening socket, one of an SO_REUSEPORT group; the worker accepts from
// it itself (a Node worker receives a listening net.Server). The master keeps its own
// copy, so the socket's queue outlives the worker.
struct Listen {
  std::string listener;  // listener name from the config
  int backlog = 0;       // the listener's: listen() again with it keeps the queue's length
};

struct Hello {
  std::string sdk;  // "cpp", "node"
  int version = kVersion;
  std::int64_t pid = 0;
  bool metrics = false;  // it answers `metrics` (it has a registry or a callback); JSON: present when true
  int window = 1;  // handles it may have in flight at once (decoded: at most kMaxHandleWindow); JSON: present when > 1
};

// What an SDK worker needs to check that the next request on a keep-alive connection is
// still its own: the app's rule, where a worker can evaluate it (see route_key.h).
struct RouteCheck {
  KeySource rule = KeySource::none;  // none: no check; on the wire by its name (route_key.h)
  int index = 1;          // url_segment
  bool direct = false;    // url_segment
  std::string name;       // header, cookie, query
  bool missing_stays = true;  // a request without a key stays here; false: hand it back (the master answers 404)
  std::vector<std::string> prefixes;  // the app's URL prefixes when it shares its port
  std::vector<std::string> foreign;   // the other apps' prefixes on its listeners
  bool operator==(const RouteCheck&) const = default;
};

// An HTTP.SYS request queue the master created for this slot and duplicated into the
// worker (Windows, `listeners[].httpsys`): the worker receives its requests from it
// instead of sockets. `queue` is the HANDLE value in the worker's own process.
struct HttpSys {
  std::uint64_t queue = 0;
  std::string prefix;  // the URL prefix bound to it, as "http://+:8080/3/"
  bool operator==(const HttpSys&) const = default;
};

// The app has an output cache (welcome.cache): its SDK workers send `cache_put` for the
// responses they mark cacheable, up to `max_entry` bytes of body. Socket mode: a C++ SDK
// worker maps the shared table named `table` (protocols/cache_segment.h; absent: none) and
// answers its hits on the connections it holds. In HTTP.SYS mode (welcome.httpsys) the
// worker hands its cacheable responses to HTTP.SYS's kernel cache instead, and keeps a
// `public` one without a lifetime for `default_ttl_ms` (the app's default_ttl; 0, or
// absent on the wire: not at all).
struct CacheOffer {
  std::uint64_t max_entry = 0;
  std::uint64_t default_ttl_ms = 0;
  std::string table;
  bool operator==(const CacheOffer&) const = default;
};

// A cacheable response (worker → master), with what keys it: the request's host, target
// and Accept-Encoding. The master decides whether to store it (core/cache/cache_policy.h):
// the worker's choice is a hint, never trusted.
struct CachePut {
  std::string host;
  std::string target;           // as requested: path and query
  std::string accept_encoding;  // the request's, for `Vary: Accept-Encoding`; JSON: omitted if empty
  std::optional<std::int64_t> ttl;  // seconds, `res.cacheDuration` (absent: from Cache-Control)
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;  // as the worker sent them: [[name, value], ...]
  std::string body;  // JSON: base64
};
// The response to a `fill` request that was not cacheable.
struct CachePass {
  std::string host;
  std::string target;
};

struct Welcome {
  std::string app;
  int slot = 0;  // 1-based, as users see it
  int workers = 0;  // the app's slots now
  int generation = 0;
  std::int64_t heartbeat_ms = 0;  // send `stats` this often; 0: never
  RouteCheck route = {};  // empty rule: never hand back
  // The app's `http:` section (protocols/http_settings.h). Absent: the worker keeps its own.
  std::optional<HttpSettings> http = std::nullopt;
  std::optional<HttpSys> httpsys = std::nullopt;  // absent: connections come as sockets
  // The drain's numbers (protocols/drain_rules.h). Absent (an older master): the worker's own.
  std::optional<DrainRules> drain = std::nullopt;
  std::optional<CacheOffer> cache = std::nullopt;  // absent: the app has no output cache
};

// What a worker checks keep-alive requests against changed after its `welcome` (a reload
// changed the rule or the prefixes of a shared port, a reload or `scale` the slot count):
// both replace welcome's at once, on the connections the worker holds too.
struct Route {
  int workers = 0;        // the app's slots now
  RouteCheck route = {};  // empty rule (and no prefixes): never hand back
  bool operator==(const Route&) const = default;
};

// The heartbeat. Counters are totals since the worker started, except `connections`.
struct Stats {
  std::uint64_t requests = 0;     // responses completed
  std::uint64_t connections = 0;  // open now
  std::uint64_t bytes = 0;        // response bytes written (headers included); absent: 0
  std::uint64_t rss = 0;          // bytes, as the worker sees it (the master reads its own)
};

// Stop taking work: finish requests in flight (answering with Connection: close), close
// idle keep-alive sockets, then exit. The master kills the worker after timeout_ms.
// `handback`: a successor serves this slot (a reload, a recycling, a scale-down), so an
// idle keep-alive socket goes back to the master (a `handback` with an empty head)
// instead of being closed: closing it would race its client's next request (ECONNRESET).
// The master sets it only while its listeners stay open; on shutdown it is false.
struct Drain {
  std::int64_t timeout_ms = 0;
  bool handback = false;  // JSON: present (true) only when set
};

struct Ready {};

// A /metrics scrape asks each worker that offers metrics; the answer carries the same id.
struct Metrics {
  std::uint64_t id = 0;
};
struct MetricsText {
  std::uint64_t id = 0;
  std::string text;   // Prometheus text format 0.0.4
  bool sum = false;   // the app wants its slots added up (no `slot` label); JSON: present when true
};

// A well-formed JSON object we do not know: ignored, but visible to logs and tests.
struct Unknown {
  std::string what;  // the cmd or handoff tag, if any
};

using Message =
    std::variant<Handle, Handback, Listen, HandleAck, HandleNack, Hello, Welcome, Ready, Stats, Drain, Route, Metrics,
                 MetricsText, CachePut, CachePass, Unknown>;

// Encodes one message as a complete line, '\n' included.
std::string encode(const Message& message);

// A `conn` by views of its fields: the master's hand-off path encodes its connection's
// own strings with encode_conn() instead of copying them into a Conn first. The same
// line as encode(Handle{conn}).
struct ConnView {
  std::uint64_t id = 0;
  std::string_view remote_address;
  int remote_port = 0;
  std::string_view listener;
  std::string_view head;
  bool fill = false;
  // remote_address and listener go into JSON strings as they are (the caller checked them
  // with plain_json_text, once per listener): the hand-off path skips the check.
  bool plain = false;
};
std::string encode_conn(const ConnView& conn);
// Whether `s` goes into a JSON string without escaping: printable ASCII, no quote or backslash.
bool plain_json_text(std::string_view s);
// The same into `storage`, reused from line to line (grown, never shrunk): the line is
// the view returned, valid until the next use of `storage`.
std::string_view encode_conn(const ConnView& conn, std::string& storage);

struct DecodeError {
  std::string reason;
};

// Decodes one line (without its '\n'). Never throws: malformed JSON, a non-object, or a
// known message with missing or mistyped fields is a DecodeError.
std::variant<Message, DecodeError> decode(std::string_view line);

std::string_view name_of(const Message& message);

}  // namespace handoff::ipc
