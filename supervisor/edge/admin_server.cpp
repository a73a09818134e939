#include "supervisor/edge/admin_server.h"

#include <llhttp.h>

#include <memory>
#include <optional>
#include <utility>

namespace handoff {
namespace {

class AdminSession final : public ShortServer::Session {
 public:
  explicit AdminSession(AdminSource& source) : source_(source) {
    llhttp_settings_init(&settings_);
    settings_.on_url = [](llhttp_t* p, const char* at, size_t n) {
      static_cast<AdminSession*>(p->data)->target_.append(at, n);
      return 0;
    };
    settings_.on_headers_complete = [](llhttp_t* p) -> int {
      static_cast<AdminSession*>(p->data)->complete_ = true;
      return HPE_PAUSED;  // the head is all we need
    };
    llhttp_init(&parser_, HTTP_REQUEST, &settings_);
    parser_.data = this;
  }

  std::optional<std::string> feed(std::string_view bytes) override {
    const auto rc = llhttp_execute(&parser_, bytes.data(), bytes.size());
    if (asked_) return std::nullopt;  // the answer comes later
    if (complete_) {
      const std::string_view method = llhttp_method_name(static_cast<llhttp_method_t>(parser_.method));
      const bool metrics = std::string_view(target_).substr(0, target_.find('?')) == "/metrics";
      if (metrics && (method == "GET" || method == "HEAD")) return ask_metrics(method == "HEAD");
      return serialize(route_admin(method, target_, source_), method == "HEAD");
    }
    if (rc != HPE_OK) return serialize({400, "text/plain; charset=utf-8", "bad request\n"}, false);
    return std::nullopt;
  }
  std::string too_large() override { return serialize({431, "text/plain; charset=utf-8", "request too large\n"}, false); }
  std::string timed_out() override { return serialize({408, "text/plain; charset=utf-8", "request timeout\n"}, false); }

 private:
  // /metrics waits for the workers' own metrics (a bounded time): answered later, or at
  // once when the source answers inside the call.
  std::optional<std::string> ask_metrics(bool head_only) {
    asked_ = true;
    inside_ = true;
    source_.metrics_async([alive = std::weak_ptr<int>(alive_), this, head_only](std::string body) {
      if (alive.expired()) return;  // the connection is gone (the server closed)
      auto bytes = serialize(metrics_answer(std::move(body)), head_only);
      if (inside_) at_once_ = std::move(bytes);
      else answer_later(std::move(bytes));
    });
    inside_ = false;
    if (!at_once_) hold();
    return std::exchange(at_once_, std::nullopt);
  }

  AdminSource& source_;
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);
  bool asked_ = false;
  bool inside_ = false;                  // in metrics_async: an answer now is returned by feed()
  std::optional<std::string> at_once_;
  llhttp_settings_t settings_{};
  llhttp_t parser_{};
  std::string target_;
  bool complete_ = false;
};

}  // namespace

AdminServer::AdminServer(uv_loop_t* loop, AdminSource& source)
    : source_(source),
      server_(loop, {.max_request = 16 * 1024, .timeout = std::chrono::milliseconds(10'000)},
              [this](std::intptr_t) { return std::make_unique<AdminSession>(source_); }) {}

}  // namespace handoff
