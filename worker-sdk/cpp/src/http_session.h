// One HTTP/1.1 server connection, without the socket: bytes in, response bytes out.
//
// feed() parses with llhttp, calls the handler for each complete request and queues
// the serialized responses in request order. A synchronous handler answers at once; while
// an AsyncHandler's response is awaited, parsing stops (later bytes are held), so the
// order holds for pipelining too. The I/O edge drains the queue with take_output() and
// closes the connection once closing() is true and everything taken has been written.
//
// Draining (drain()), each response says `Connection: close` unless more request bytes
// are already buffered behind it: pipelined requests are all answered, the last closes.
//
// With the master's output cache (offer_cache()), each complete response is also judged
// (cache_note.h) and what the master should hear of it is queued beside the output
// (take_cache_notes()).
#pragma once

#include "worker-sdk/cpp/src/cache_hit.h"
#include "worker-sdk/cpp/src/cache_note.h"
#include "worker-sdk/cpp/src/response_writer.h"
#include <handoff/worker.h>

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace handoff {

class HttpSession {
 public:
  using AnyHandler = std::variant<Handler, AsyncHandler>;

  // keep_alive_timeout_ms is only announced (`Keep-Alive: timeout=<whole seconds>`); the
  // edge keeps the time.
  explicit HttpSession(AnyHandler handler, HttpLimits limits = {}, unsigned keep_alive_timeout_ms = 0);
  ~HttpSession();
  // The parser keeps a pointer back to the session, so it stays where it was built.
  HttpSession(const HttpSession&) = delete;
  HttpSession& operator=(const HttpSession&) = delete;

  // Who the requests come from (Request::remote_address, remote_port); before feed().
  void set_peer(std::string address, int port);

  // Bytes from the peer. Once closing(), further bytes are ignored: after a
  // `Connection: close` exchange or an error, the rest of the stream is not trusted.
  // While paused(), bytes are held, unparsed, until resume().
  void feed(std::string_view bytes);

  // Parsing stopped because HttpLimits::max_pending_output bytes of responses were
  // produced since the last take_output(). The edge stops reading, writes, and calls
  // resume() once the socket has drained.
  bool paused() const;
  void resume();

  // The peer closed its sending side: requests already received (held while paused
  // included) are still answered; a partial request is dropped.
  void finish();

  // Answer nothing more (the worker is stopping); held bytes are dropped, an awaited
  // response is not sent.
  void close();

  // The worker is retiring: the response in progress, or the next one, is the last
  // (`Connection: close`), unless more requests are already buffered behind it.
  void drain();
  // Nothing to do: a response was sent, no request has begun since, and no byte is held
  // (an idle keep-alive connection, which a drain may hand back or close: DrainMachine).
  // A fresh connection (no request yet) is not between requests: its request will come.
  bool between_requests() const;
  // Draining and between_requests().
  bool closable() const;

  // An AsyncHandler's response is awaited: the edge reads nothing and times nothing.
  bool waiting() const;
  // Called when an awaited response arrives, outside feed() and resume(), so that the
  // edge writes it. It may destroy the session; the session touches nothing after it.
  void on_async_output(std::function<void()> callback);

  // The edge gave up waiting for the rest of a request: answer 408 and close. Between
  // requests (nothing begun) it closes without a word: never a 408 to an idle connection.
  void timeout();

  // No further requests will be answered; close after the queued output is written.
  bool closing() const;

  // Between requests: no byte of a next request has arrived, no response is awaited.
  // The edge uses this to choose between the keep-alive timeout and the request timeouts.
  bool idle() const;
  // A request has begun and its head is not complete yet (headers_timeout applies).
  bool receiving_head() const;
  // Requests whose first byte has arrived so far: a change tells the edge that a new
  // request started (its timeouts count from then).
  std::size_t requests_begun() const;

  bool has_output() const;
  // Moves out everything queued, in order. Intermediate 100 Continue responses included.
  std::vector<SerializedResponse> take_output();

  // Requests answered so far (tests, statistics).
  std::size_t requests() const;

  // The app has an output cache (welcome.cache); before feed(). Each response worth
  // keeping (worth_caching(), up to offer.max_entry bytes of body) becomes a cache_put.
  // `fill` (conn.fill): the master holds other requests for the key of this connection's
  // first request until it hears of it, so that request always gets one note: its put, or
  // else a cache_pass, also when no response to it comes (an error the session answers, a
  // timeout, close()). A first request whose head never completed has no key to name:
  // nothing is sent for it. Without an offer nothing is judged and nothing copied.
  // `table` (may be null): the master's shared table; each later request it has a fresh
  // entry for is answered from it (cache_hit.h) instead of by the handler, and judged not.
  void offer_cache(ipc::CacheOffer offer, bool fill, std::shared_ptr<cache_table::Reader> table = nullptr);
  // Requests answered from the table so far.
  std::size_t table_hits() const;
  bool has_cache_notes() const;
  // Moves out the notes produced so far, in the order of the responses.
  std::vector<CacheNote> take_cache_notes();

  // Per-request affinity. `belongs` is asked about each request after the session's
  // first, once its head is complete and before anything is done with it (no handler
  // call, no 100 Continue, no limit on its body). On false the session stops: that
  // request and everything after it are not parsed, nothing more is answered, and
  // handing_back() is true. Requests before it are answered as usual; the edge hands the
  // socket back once their responses are written.
  void check_requests(std::function<bool(const Request& head)> belongs);
  bool handing_back() const;
  // The bytes read and not served, in order: from the first byte of the request that
  // belongs elsewhere to the end of everything fed (pipelined requests after it included;
  // feed() appends a read that was under way).
  std::string take_handback_bytes();

 private:
  friend struct Responder::State;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace handoff
