// One `supervisor logs --follow` client on the control socket: after the answer, the
// connection stays open and receives each log line as it is written (only its app's, when
// it named one). The master never waits for it: at most kMaxQueued bytes are in flight to
// a follower; lines beyond are dropped and counted, and once it has caught up it is told
// how many (event=log_dropped lines=N). A follower that hangs up is forgotten. libuv edge.
#pragma once

#include <uv.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <memory>
#include <string_view>
#include <vector>

#include "supervisor/edge/log.h"
#include "uvglue/uv_handle.h"

namespace handoff {

class LogFollower final : public LogReader {
 public:
  static constexpr std::size_t kMaxQueued = 1024 * 1024;
  // `gone` runs (from a libuv callback, once) when the client hung up or a write failed:
  // the owner destroys the follower then.
  LogFollower(UvHandle<uv_pipe_t> pipe, std::string app, std::function<void(LogFollower*)> gone);
  ~LogFollower();
  LogFollower(const LogFollower&) = delete;
  LogFollower& operator=(const LogFollower&) = delete;

  void on_log_line(std::string_view app, std::string_view line) override;

 private:
  void send(std::string bytes);
  void report_dropped();
  void lost();
  UvHandle<uv_pipe_t> pipe_;
  std::string app_;
  std::function<void(LogFollower*)> gone_;
  std::size_t queued_ = 0;
  std::uint64_t dropped_ = 0;
  bool broken_ = false;
  char buffer_[256];
};

// The control socket's followers; at most kMax at once (each may hold kMaxQueued).
class LogFollowers {
 public:
  static constexpr std::size_t kMax = 16;
  bool full() const { return list_.size() >= kMax; }
  void add(UvHandle<uv_pipe_t> pipe, std::string app);
  void clear() { list_.clear(); }

 private:
  std::vector<std::unique_ptr<LogFollower>> list_;
};

}  // namespace handoff
