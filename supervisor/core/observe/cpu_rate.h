// A process's CPU use over an interval, from two readings of its CPU time: what `top`
// shows as %CPU. Pure: the caller reads the OS and the clock.
#pragma once

#include <chrono>
#include <cstdint>

namespace handoff {

class CpuRate {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;

  // `cpu_ms` is process `pid`'s CPU time at `at`. Returns its use since the previous
  // reading, in 1/1000 of a core (1000: one core busy); 0 at a first reading, which is
  // also what a reading of another pid is (a new worker).
  std::uint64_t sample(std::int64_t pid, std::uint64_t cpu_ms, TimePoint at) {
    const bool same = pid == pid_ && cpu_ms >= cpu_ms_ && at > at_;
    const auto elapsed_ms = std::chrono::duration<double, std::milli>(at - at_).count();
    const std::uint64_t milli =
        same ? static_cast<std::uint64_t>(static_cast<double>(cpu_ms - cpu_ms_) * 1000.0 / elapsed_ms + 0.5) : 0;
    pid_ = pid;
    cpu_ms_ = cpu_ms;
    at_ = at;
    return milli;
  }

 private:
  std::int64_t pid_ = -1;
  std::uint64_t cpu_ms_ = 0;
  TimePoint at_{};
};

}  // namespace handoff
