// The edge of the head intake (core/head_intake.h): owns the sockets of the connections
// being classified, feeds the machine from a byte source, and carries out its effects.
// The byte source is a peek (the bytes stay in the kernel, so the worker reads a pristine
// socket) where the platform can, or a read (the bytes are taken and carried with the
// handle, as on Windows; HANDOFF_CLASSIFY_BY_READING=1 forces it, to test that path here).
#pragma once

#include <uv.h>

#include <functional>
#include <memory>
#include <unordered_map>

#include "uvglue/timer.h"
#include "uvglue/uv_handle.h"

#include "supervisor/edge/connection.h"
#include "supervisor/core/head_intake.h"
#include "supervisor/core/routing/request_head.h"

namespace handoff {

class Classifier : private IntakeEdge {
 public:
  using Settings = HeadIntake::Settings;
  // `head` is null when the listener does not read heads; it lives during the call only.
  using OnClassified = std::function<void(ConnectionPtr, const RequestHead* head)>;
  // A connection to answer with an error status (400, 408, 431): the master's one reject
  // path answers and counts it.
  using OnRejected = std::function<void(ConnectionPtr, int status)>;

  Classifier(uv_loop_t* loop, Settings settings, OnClassified on_classified, OnRejected on_rejected);
  ~Classifier() override;
  Classifier(const Classifier&) = delete;
  Classifier& operator=(const Classifier&) = delete;

  void set_settings(const Settings& settings) { intake_.set_settings(settings); }
  // Takes the connection until it is classified (or answered and closed).
  void add(ConnectionPtr connection);
  std::size_t size() const { return intake_.size(); }

 private:
  struct Watch {
    Classifier* owner = nullptr;
    IntakeId id = 0;
    ConnectionPtr connection;
    UvHandle<uv_poll_t> poll;  // the peek source's readiness, once it waited
    bool low_water = false;    // SO_RCVLOWAT raised above 1 (reset when released)
    bool reading = false;      // the read source has started
  };

  // IntakeEdge: the machine's effects.
  bool proxied(IntakeId id, const ProxyHeader& header, std::size_t in_kernel) override;
  void waiting(IntakeId id, std::size_t in_kernel) override;
  void classified(IntakeId id, const RequestHead* head, std::string_view taken) override;
  void rejected(IntakeId id, int status) override;
  void closed(IntakeId id) override;

  void peek(Watch& w, bool peer_closed);  // the peek source: reports the kernel's view
  bool watch_readable(Watch& w);          // its poll handle, made when it must wait
  void start_reading(Watch& w);           // the read source: reports each read
  ConnectionPtr release(IntakeId id);     // no longer watched: libuv allows one watcher per fd
  void arm_timer();

  uv_loop_t* loop_;
  bool peek_;
  OnClassified on_classified_;
  OnRejected on_rejected_;
  HeadIntake intake_;
  std::unordered_map<IntakeId, std::unique_ptr<Watch>> watches_;
  IntakeId next_id_ = 1;
  Timer timer_;
};

}  // namespace handoff
