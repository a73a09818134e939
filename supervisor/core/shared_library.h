// A shared library as the core sees one: symbols by name. Opening one is the host's job
// (edge/shared_library.h, with libuv); the core is handed a loader, so it never calls the
// OS's dynamic loader itself.
#pragma once

#include <functional>
#include <memory>
#include <string>

namespace handoff {

class SharedLibrary {
 public:
  virtual ~SharedLibrary() = default;  // unloads the library
  // The address of an exported symbol; null when the library has none by that name.
  virtual void* symbol(const char* name) = 0;
};

// Opens the library at `path`; null and a reason (naming the path) when it cannot.
using LibraryLoader = std::function<std::unique_ptr<SharedLibrary>(const std::string& path, std::string& error)>;

}  // namespace handoff
