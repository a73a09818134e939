// A scoreboard segment mapped into this process (protocols/platform/shared_memory.h: a
// file under /dev/shm on Linux, a native paging-file section on Windows). The master
// creates and removes it; `supervisor status`, `top` and C++ SDK workers open it.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "protocols/scoreboard.h"

namespace handoff::scoreboard {

class Segment {
 public:
  // A new segment, readable and writable by this process's user only (0600). Fails when
  // one of that name exists: the caller decides whether it is stale (remove()).
  static std::unique_ptr<Segment> create(const std::string& name, std::uint32_t capacity, std::int64_t master_pid,
                                         std::int64_t now_ms, std::string& error);
  // An existing, valid segment; read-only unless `writable`. `denied` (when given): the
  // segment exists but this user may not open it.
  static std::unique_ptr<Segment> open(const std::string& name, bool writable, std::string& error,
                                       bool* denied = nullptr);
  // Removes a stale one (false and why when it cannot: on Windows a section lives as long
  // as any process holds it).
  static bool remove(const std::string& name, std::string& error);

  ~Segment();
  Segment(const Segment&) = delete;
  Segment& operator=(const Segment&) = delete;

  Header* header() const { return header_; }
  const std::string& name() const { return name_; }
  // The OS handle of the segment (a descriptor on POSIX, a HANDLE on Windows), for
  // ownership changes.
  std::intptr_t native_handle() const;
  // Who may open it: "0600", or on Windows the section's DACL in SDDL.
  std::string access() const;

 private:
  struct Impl;
  explicit Segment(std::unique_ptr<Impl> impl);
  static std::unique_ptr<Segment> adopt(std::unique_ptr<Impl> impl, Header* header, const std::string& name);
  std::unique_ptr<Impl> impl_;
  Header* header_ = nullptr;
  std::string name_;
};

}  // namespace handoff::scoreboard
