// A native handle as an integer: an fd on POSIX, a HANDLE (a pointer) on Windows.
#pragma once

#include <cstdint>
#include <type_traits>

namespace handoff {

template <class Handle>
std::intptr_t as_intptr(Handle handle) {
  if constexpr (std::is_pointer_v<Handle>) return reinterpret_cast<std::intptr_t>(handle);
  else return static_cast<std::intptr_t>(handle);
}

}  // namespace handoff
