// One HTTP/1.1 server connection, without the socket: bytes in, response bytes out.
//
// feed() parses with llhttp, calls the handler for each complete request and queues
// the serialized responses in request order (pipelining needs nothing more, since the
// handler is synchronous). The I/O edge drains the queue with take_output() and closes
// the connection once closing() is true and everything taken has been written.
#pragma once

#include <handoff/response_writer.h>
#include <handoff/worker.h>

#include <memory>
#include <string_view>
#include <vector>

namespace handoff {

class HttpSession {
 public:
  explicit HttpSession(Handler handler, HttpLimits limits = {});
  ~HttpSession();
  // The parser keeps a pointer back to the session, so it stays where it was built.
  HttpSession(const HttpSession&) = delete;
  HttpSession& operator=(const HttpSession&) = delete;

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

  // Answer nothing more (the worker is stopping); held bytes are dropped.
  void close();

  // The edge gave up waiting for the rest of a request: answer 408 and close.
  void timeout();

  // No further requests will be answered; close after the queued output is written.
  bool closing() const;

  // Between requests: no byte of a next request has arrived. The edge uses this to
  // choose between the keep-alive timeout and the request timeout.
  bool idle() const;

  bool has_output() const;
  // Moves out everything queued, in order. Intermediate 100 Continue responses included.
  std::vector<SerializedResponse> take_output();

  // Requests answered so far (tests, statistics).
  std::size_t requests() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace handoff
