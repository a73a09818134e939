// What became of a scale (`supervisor scale APP N`): each slot it added until its first
// worker is ready (or fails to start), each slot it removed until its workers are gone.
// Pure: the app tells it what its slots do; it says when the scale is over, whether it
// worked, and the line `supervisor scale` prints:
//   "hello: scaled 2 -> 4: slot 3 ready (pid 812), slot 4 ready (pid 813)"
//   "hello: scaled 4 -> 2: slots 3, 4 stopped"
//   "hello: scaled 2 -> 3: slot 3 failed to start: start_failure (exit code 1)"
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>

namespace handoff {

class ScaleWatch {
 public:
  ScaleWatch(std::string app, std::size_t from, std::size_t to);

  // An added slot's first worker is ready, or its start failed (`why`).
  void ready(int slot, std::int64_t pid);
  void failed(int slot, std::string why);
  // A removed slot's last worker is gone.
  void stopped(int slot);
  // The scale ends before its slots settled: a newer scale, or the app stops (`why`).
  void interrupt(std::string why);

  const std::string& app() const { return app_; }
  bool added(int slot) const;
  bool removed(int slot) const;
  bool complete() const;
  bool ok() const;
  std::string describe() const;

 private:
  struct Step {
    enum class State { waiting, ready, failed, stopped } state = State::waiting;
    std::optional<std::int64_t> pid;
    std::string why;
  };
  std::string app_;
  std::size_t from_, to_;
  std::map<int, Step> slots_;  // by slot number: the ones added or removed
  std::string interrupted_;
};

}  // namespace handoff
