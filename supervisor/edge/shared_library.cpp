#include "supervisor/edge/shared_library.h"

#include <uv.h>

namespace handoff {
namespace {

class UvLibrary final : public SharedLibrary {
 public:
  UvLibrary() = default;
  UvLibrary(const UvLibrary&) = delete;
  UvLibrary& operator=(const UvLibrary&) = delete;
  ~UvLibrary() override { uv_dlclose(&library_); }

  // uv_dlclose is needed after a failed uv_dlopen too (it frees the error message).
  bool open(const std::string& path, std::string& error) {
    if (uv_dlopen(path.c_str(), &library_) == 0) return true;
    error = "cannot load plugin " + path + ": " + uv_dlerror(&library_);
    return false;
  }

  void* symbol(const char* name) override {
    void* address = nullptr;
    return uv_dlsym(&library_, name, &address) == 0 ? address : nullptr;
  }

 private:
  uv_lib_t library_{};
};

}  // namespace

std::unique_ptr<SharedLibrary> open_shared_library(const std::string& path, std::string& error) {
  auto library = std::make_unique<UvLibrary>();
  if (!library->open(path, error)) return nullptr;
  return library;
}

}  // namespace handoff
