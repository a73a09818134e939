// Opening a shared library with libuv (uv_dlopen): the host's LibraryLoader
// (core/shared_library.h) for the `plugin` rule.
#pragma once

#include <memory>
#include <string>

#include "supervisor/core/shared_library.h"

namespace handoff {

// Null and "cannot load plugin PATH: REASON" when the library does not open.
std::unique_ptr<SharedLibrary> open_shared_library(const std::string& path, std::string& error);

}  // namespace handoff
