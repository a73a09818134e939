// The worker's side of the IPC channel, without the pipe: lines in, decisions out.
//
// The master sends one handle at a time and waits for its ACK (protocols/README.md), so the
// rule is: each complete NODE_HANDLE line claims the one pending handle. The fd travels
// with the first bytes of its line, so by the time the whole line is decoded the handle
// is pending; whether it is, and taking it, is the edge's job (Events).
#pragma once

#include "protocols/ipc_messages.h"
#include "protocols/line_framer.h"

#include <string>
#include <string_view>

namespace handoff {

class ChannelProtocol {
 public:
  struct Events {
    // A NODE_HANDLE line arrived. Take the pending socket and serve it; false if none
    // was pending (the line came without its fd) or it could not be used.
    virtual bool take_handle(const ipc::Conn& conn) = 0;
    // A NODE_HANDLE line we could not decode: drop its pending socket, if any.
    virtual void discard_handle() = 0;
    virtual void welcome(const ipc::Welcome& welcome) = 0;
    virtual void drain(const ipc::Drain& drain) = 0;
    // A reload or a scale changed the app's rule or slot count: replaces welcome's.
    virtual void route(const ipc::Route& route) = 0;
    // The master answered the handle we sent last (a `handback`): ACK (true) or NACK.
    virtual void handle_answered(bool acknowledged) = 0;
    virtual void send(std::string line) = 0;
    virtual void log(std::string_view what) = 0;

   protected:
    ~Events() = default;
  };

  explicit ChannelProtocol(std::size_t max_line = ipc::kDefaultMaxMessageBytes) : framer_(max_line) {}

  void feed(std::string_view bytes, Events& events);

  static std::string hello_line(std::int64_t pid);
  static std::string ready_line();
  static std::string stats_line(const ipc::Stats& stats);
  static std::string handback_line(const ipc::Handback& handback);

 private:
  void on_line(std::string_view line, Events& events);

  ipc::LineFramer framer_;
  // Anything odd is logged once per kind, so a chatty peer cannot flood stderr.
  bool logged_malformed_ = false;
  bool logged_unknown_ = false;
  bool logged_oversize_ = false;
};

}  // namespace handoff
