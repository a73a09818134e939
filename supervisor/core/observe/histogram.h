// A Prometheus-style histogram with fixed buckets: cumulative counts are computed when
// rendered, so observe() is one comparison loop and two additions. Pure; not thread-safe
// (the master's loop owns it).
#pragma once

#include <array>
#include <cstdint>

namespace handoff {

class Histogram {
 public:
  // Upper bounds in seconds, for a hand-off from accept to the worker's ACK: tens of
  // microseconds when a worker is free, up to the queue timeout when a slot is down.
  static constexpr std::array<double, 16> kBounds = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                     0.05,   0.1,     0.25,   0.5,   1,      2.5,   5,     10};

  void observe(double seconds) {
    std::size_t i = 0;
    while (i < kBounds.size() && seconds > kBounds[i]) ++i;
    ++counts_[i];  // counts_[kBounds.size()] is +Inf
    sum_ += seconds;
    ++count_;
  }

  // Observations <= kBounds[i] (i == kBounds.size(): all of them).
  std::uint64_t cumulative(std::size_t i) const {
    std::uint64_t n = 0;
    for (std::size_t j = 0; j <= i && j < counts_.size(); ++j) n += counts_[j];
    return n;
  }
  std::uint64_t count() const { return count_; }
  double sum() const { return sum_; }

 private:
  std::array<std::uint64_t, kBounds.size() + 1> counts_{};
  double sum_ = 0;
  std::uint64_t count_ = 0;
};

}  // namespace handoff
