// What both platforms' SharedMemory are made of: a Boost.Interprocess memory object (POSIX
// shared_memory_object, Windows windows_shared_memory) and its mapping, plus the opening
// and error handling they share. Included by platform/{posix,win}/shared_memory.cpp only.
#pragma once

#include <memory>
#include <string>
#include <utility>

#include <boost/interprocess/exceptions.hpp>
#include <boost/interprocess/mapped_region.hpp>

namespace handoff {

namespace bip = boost::interprocess;

template <class Object>
struct BoostMapping {
  // Built in place: Boost's move assignment of a default-constructed object reads an
  // uninitialized member.
  template <class... Args>
  explicit BoostMapping(bip::mode_t mode, Args&&... args) : object(std::forward<Args>(args)...), region(object, mode) {}
  Object object;
  bip::mapped_region region;
};

// make() builds the SharedMemory; Boost's exception becomes `error` and a null result,
// and `denied` (when given) says whether it was a permission the OS refused.
template <class Make>
auto catching_boost(std::string& error, Make make, bool* denied = nullptr) -> decltype(make()) {
  try {
    return make();
  } catch (const bip::interprocess_exception& e) {
    error = e.what();
    if (denied) *denied = e.get_error_code() == bip::security_error;
    return nullptr;
  }
}

}  // namespace handoff
