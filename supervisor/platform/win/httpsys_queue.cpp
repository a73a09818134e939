// HTTP.SYS request queues, the master's side (HTTP Server API 2.0): one server session
// for the process, one URL group per queue, the queue bound to the group, the slot's
// prefix added to the group. Workers get the queue by DuplicateHandle: under wine 8 a
// named queue opened by a second process (HTTP_CREATE_REQUEST_QUEUE_FLAG_OPEN_EXISTING)
// is not implemented, a duplicated handle works (windows/probes/httpsys_dup_probe.cpp).
#include "supervisor/platform/httpsys.h"

#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#include <windows.h>
#include <http.h>

#include <chrono>
#include <memory>
#include <thread>

namespace handoff::platform {
namespace {

std::wstring widen(const std::string& text) {
  const int n = MultiByteToWideChar(CP_UTF8, 0, text.data(), static_cast<int>(text.size()), nullptr, 0);
  std::wstring out(static_cast<std::size_t>(n), L'\0');
  MultiByteToWideChar(CP_UTF8, 0, text.data(), static_cast<int>(text.size()), out.data(), n);
  return out;
}

std::string describe(const char* call, ULONG rc) {
  std::string text = std::string(call) + " failed: error " + std::to_string(rc);
  if (rc == ERROR_ALREADY_EXISTS) text += " (the prefix is registered by another process or queue)";
  if (rc == ERROR_ACCESS_DENIED) text += " (reserve the URL for this user: netsh http add urlacl url=PREFIX user=NAME)";
  if (rc == ERROR_SHARING_VIOLATION) text += " (another program listens on the port without HTTP.SYS)";
  return text;
}

constexpr HTTPAPI_VERSION kVersion2 = HTTPAPI_VERSION_2;

// Wine 8's httpapi.dll exports HttpFlushResponseCache as an unimplemented stub: calling
// it raises an exception that ends the process ("unimplemented function
// httpapi.dll.HttpFlushResponseCache called, aborting"), and wine ignores the workers'
// HTTP_CACHE_POLICY anyway (nothing is ever cached there). Under wine (ntdll exports
// wine_get_version) the call is therefore not made.
bool under_wine() {
  HMODULE ntdll = GetModuleHandleW(L"ntdll.dll");
  return ntdll != nullptr && GetProcAddress(ntdll, "wine_get_version") != nullptr;
}

// HttpInitialize once per process, and the server session every URL group belongs to.
struct Api {
  ULONG status = NO_ERROR;
  HTTP_SERVER_SESSION_ID session = HTTP_NULL_ID;
  std::string error;

  Api() {
    // HttpInitialize starts the HTTP service on demand. Under wine that service starts
    // with the prefix's other services, and while they are still starting the service
    // manager answers "database locked" (1055): wait a little and try again. Bounded,
    // since this runs on the loop; a slot that still fails is restarted with backoff,
    // and the next try starts here again.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    for (;;) {
      status = HttpInitialize(kVersion2, HTTP_INITIALIZE_SERVER, nullptr);
      if (status != ERROR_SERVICE_DATABASE_LOCKED || std::chrono::steady_clock::now() > deadline) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
    if (status != NO_ERROR) {
      error = describe("HttpInitialize", status);
      return;
    }
    status = HttpCreateServerSession(kVersion2, &session, 0);
    if (status != NO_ERROR) error = describe("HttpCreateServerSession", status);
  }
  ~Api() {
    if (session != HTTP_NULL_ID) HttpCloseServerSession(session);
    if (status == NO_ERROR) HttpTerminate(HTTP_INITIALIZE_SERVER, nullptr);
  }
};

// Kept once it worked; tried again by the next queue when it did not.
Api& api() {
  static std::unique_ptr<Api> instance;
  if (!instance || instance->status != NO_ERROR) {
    instance.reset();
    instance = std::make_unique<Api>();
  }
  return *instance;
}

class WinQueue final : public HttpSysQueue {
 public:
  explicit WinQueue(std::string prefix) : HttpSysQueue(std::move(prefix)) {}
  ~WinQueue() override {
    // The group first (its URL stops routing here), then the queue: requests still in
    // it are answered 503 by HTTP.SYS.
    if (group_ != HTTP_NULL_ID) HttpCloseUrlGroup(group_);
    if (queue_) HttpCloseRequestQueue(queue_);
  }

  bool open(std::string& error) {
    Api& a = api();
    if (a.status != NO_ERROR) {
      error = a.error;
      return false;
    }
    if (ULONG rc = HttpCreateUrlGroup(a.session, &group_, 0); rc != NO_ERROR) {
      error = describe("HttpCreateUrlGroup", rc);
      return false;
    }
    // Unnamed: a named queue would only help a second process open it, which wine lacks;
    // the worker gets this handle duplicated instead.
    if (ULONG rc = HttpCreateRequestQueue(kVersion2, nullptr, nullptr, 0, &queue_); rc != NO_ERROR) {
      error = describe("HttpCreateRequestQueue", rc);
      queue_ = nullptr;
      return false;
    }
    HTTP_BINDING_INFO binding{};
    binding.Flags.Present = 1;
    binding.RequestQueueHandle = queue_;
    if (ULONG rc = HttpSetUrlGroupProperty(group_, HttpServerBindingProperty, &binding, sizeof binding);
        rc != NO_ERROR) {
      error = describe("HttpSetUrlGroupProperty(binding)", rc);
      return false;
    }
    const std::wstring url = widen(prefix());
    if (ULONG rc = HttpAddUrlToUrlGroup(group_, url.c_str(), 0, 0); rc != NO_ERROR) {
      error = describe(("HttpAddUrlToUrlGroup(" + prefix() + ")").c_str(), rc);
      return false;
    }
    return true;
  }

  std::optional<std::uint64_t> give_to(const uv_process_t& process, std::string& error) override {
    HANDLE theirs = nullptr;
    if (!DuplicateHandle(GetCurrentProcess(), queue_, process.process_handle, &theirs, 0, FALSE,
                         DUPLICATE_SAME_ACCESS)) {
      error = "DuplicateHandle of the HTTP.SYS queue failed: error " + std::to_string(GetLastError());
      return std::nullopt;
    }
    return static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(theirs));
  }

  Flush flush_cache(const std::string& url, std::string& error) override {
    if (under_wine()) {
      error = "wine's HTTP.SYS has no kernel cache to flush (HttpFlushResponseCache is an unimplemented stub there, "
              "and the cache policy is ignored)";
      return Flush::unsupported;
    }
    const std::wstring wide = widen(url);
    // Synchronous: the kernel drops the entries and returns.
    if (ULONG rc = HttpFlushResponseCache(queue_, wide.c_str(), HTTP_FLUSH_RESPONSE_FLAG_RECURSIVE, nullptr);
        rc != NO_ERROR) {
      error = describe(("HttpFlushResponseCache(" + url + ")").c_str(), rc);
      return Flush::failed;
    }
    return Flush::flushed;
  }

 private:
  HTTP_URL_GROUP_ID group_ = HTTP_NULL_ID;
  HANDLE queue_ = nullptr;
};

}  // namespace

bool httpsys_available(std::string&) { return true; }

std::unique_ptr<HttpSysQueue> HttpSysQueue::create(const std::string& prefix, std::string& error) {
  auto queue = std::make_unique<WinQueue>(prefix);
  if (!queue->open(error)) return nullptr;
  return queue;
}

}  // namespace handoff::platform
