// What the master reads of a connection before it can choose a worker, as a machine of
// events: a PROXY protocol header (when the listener takes one), then the request head
// (when routing needs it). Bounded against slow clients: a head that takes longer than
// head_timeout gets 408, one longer than max_head 431, a malformed one 400; at most
// max_classifying connections are read at once, the oldest closed first when more come.
//
// Pure: no sockets, no loop, no clock of its own. The edge (classifier.cpp) owns the
// sockets and feeds what its byte source learned: a peek source reports the kernel's
// current view of the stream (the bytes stay there for the worker), a read source the
// bytes it took off the socket (they go to the worker with the handle). The machine keeps
// one buffer per connection, decides, and tells the edge what to do through IntakeEdge.
// Parsing is routing/proxy_protocol.h's and routing/request_head.h's.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <list>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "supervisor/core/config.h"
#include "supervisor/core/routing/proxy_protocol.h"
#include "supervisor/core/routing/request_head.h"

namespace handoff {

using IntakeId = std::uint64_t;

// The effects, carried out by the edge. The machine has forgotten the connection before
// it calls classified, rejected or closed (so the edge may add connections from there).
class IntakeEdge {
 public:
  virtual ~IntakeEdge() = default;
  // The PROXY header is complete: the client is the one it names (unless `local`). The
  // first `in_kernel` bytes of the stream are that header's, still in the kernel (a peek
  // source saw them): the edge consumes them. False when it could not: the machine closes.
  virtual bool proxied(IntakeId id, const ProxyHeader& header, std::size_t in_kernel) = 0;
  // Nothing to decide yet: wake when the kernel holds more than `in_kernel` bytes (peek),
  // or the next bytes come (read), or the peer closes.
  virtual void waiting(IntakeId id, std::size_t in_kernel) = 0;
  // Ready to route. `head` is null when the listener does not read heads. `taken`: the
  // bytes of the stream no longer in the kernel (carried, read), which go with the socket.
  // Both live during the call only.
  virtual void classified(IntakeId id, const RequestHead* head, std::string_view taken) = 0;
  // Answer `status` and close. The client sent something, or was never handed back: it
  // asked for an answer.
  virtual void rejected(IntakeId id, int status) = 0;
  // Close without a word: evicted, not through our load balancer, gone, or an idle
  // hand-back whose client asked nothing.
  virtual void closed(IntakeId id) = 0;
};

class HeadIntake {
 public:
  using Clock = std::chrono::steady_clock;

  struct Settings {
    bool proxy_protocol = false;  // a PROXY header first
    bool read_head = false;       // then the request head
    Milliseconds head_timeout{10'000};
    std::size_t max_head = 16 * 1024;
    std::size_t max_classifying = 1024;
  };

  // What the edge knows of a connection when it comes.
  struct Arrival {
    std::string carried;       // bytes a worker read before it handed the socket back
    bool handed_back = false;  // its PROXY header, if any, was consumed long ago
  };

  HeadIntake(Settings settings, IntakeEdge& edge) : settings_(settings), edge_(edge) {}
  HeadIntake(const HeadIntake&) = delete;
  HeadIntake& operator=(const HeadIntake&) = delete;

  void set_settings(const Settings& settings) { settings_ = settings; }
  const Settings& settings() const { return settings_; }

  // ---- Events ----
  // A connection comes: the oldest make room first (closed). It is decided on with the
  // first report of its byte source (peeked or arrived), which the edge makes at once.
  void added(IntakeId id, Arrival arrival, Clock::time_point now);
  // Peek source: the kernel holds `view` (after what is taken), `ended`: and the peer
  // sent its end of stream (nothing more will come).
  void peeked(IntakeId id, std::string_view view, bool ended);
  // Read source: `bytes` were taken off the socket (none: decide on what is there).
  void arrived(IntakeId id, std::string_view bytes);
  // Read source: the peer sent its end of stream.
  void peer_closed(IntakeId id);
  // The socket failed: closed.
  void lost(IntakeId id);
  // Every connection whose head_timeout has passed gets 408 (or is closed, see rejected).
  void tick(Clock::time_point now);

  // ---- For the edge ----
  // How many bytes a peek should look at: enough for a PROXY header and a head past max_head.
  std::size_t peek_length(IntakeId id) const;
  // When tick() has something to do next.
  std::optional<Clock::time_point> next_deadline() const;
  // The idle hand-backs tick(now) would close without a word: a peek source looks at
  // them once more first (peeked), so that a client whose bytes came just now, with the
  // poll's wake-up still on its way, gets its 408.
  std::vector<IntakeId> idle_due(Clock::time_point now) const;
  std::size_t size() const { return entries_.size(); }
  bool contains(IntakeId id) const { return index_.contains(id); }

 private:
  struct Entry {
    IntakeId id = 0;
    // The stream from where the master stands: carried and read bytes (taken off the
    // socket), then what the last peek saw in the kernel after them.
    std::string bytes;
    std::size_t taken = 0;  // leading bytes of `bytes` no longer in the kernel
    bool proxy_done = false;
    bool handed_back = false;
    bool ended = false;
    Clock::time_point deadline;
  };
  using Entries = std::list<Entry>;

  Entry* find(IntakeId id);
  void decide(Entry& e);
  bool strip_proxy_header(Entry& e);  // false: decided (closed), or waiting
  Entries take(Entry& e);             // out of the machine, still alive for the effect
  void close(Entry& e);
  void reject(Entry& e, int status);  // the one place that decides: answer, or close silently

  Settings settings_;
  IntakeEdge& edge_;
  Entries entries_;  // oldest first: deadlines and eviction both follow it
  std::unordered_map<IntakeId, Entries::iterator> index_;
};

}  // namespace handoff
