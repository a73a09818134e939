#include "supervisor/edge/control_server.h"

#include <filesystem>

#include "supervisor/edge/log.h"
#include "supervisor/platform/service.h"

namespace handoff {
namespace {

class ControlSession final : public ShortServer::Session {
 public:
  ControlSession(ControlServer::Handler& handler, LogFollowers& followers, std::optional<std::string> refusal)
      : handler_(handler), followers_(followers), refusal_(std::move(refusal)) {}

  std::optional<std::string> feed(std::string_view bytes) override {
    if (refusal_) return control::encode(control::Reply{false, *refusal_, {}});
    line_.append(bytes);
    const auto newline = line_.find('\n');
    if (newline == std::string::npos) return std::nullopt;
    auto decoded = control::decode_request(std::string_view(line_).substr(0, newline));
    if (auto* error = std::get_if<std::string>(&decoded)) return control::encode(control::Reply{false, *error, {}});
    const auto& request = std::get<control::Request>(decoded);
    log_event("control", {{"command", std::string(control::to_string(request.command))}});
    if (request.command == control::Command::logs && request.follow) {
      if (followers_.full())
        return control::encode(control::Reply{false, "too many followers (" + std::to_string(LogFollowers::kMax) + ")", {}});
      follow_app_ = request.app;
      follow_ = true;
    }
    // The handler may keep this past the session: it reaches the session only while it lives.
    ControlServer::Handler::Later later = [alive = std::weak_ptr<ControlSession*>(self_)](const control::Reply& reply) {
      if (auto session = alive.lock()) (*session)->answer_later(control::encode(reply));
    };
    auto reply = handler_.handle(request, after_, later);
    if (reply) return control::encode(*reply);
    hold();
    return std::nullopt;
  }
  bool keeps_connection() const override { return follow_; }
  void take_connection(UvHandle<uv_pipe_t> pipe) override { followers_.add(std::move(pipe), follow_app_); }
  std::string too_large() override { return control::encode(control::Reply{false, "request too long", {}}); }
  void answered() override {
    if (after_) std::exchange(after_, nullptr)();
  }

 private:
  ControlServer::Handler& handler_;
  LogFollowers& followers_;
  std::optional<std::string> refusal_;
  bool follow_ = false;  // `supervisor logs --follow`: the connection stays, for the log's lines
  std::string follow_app_;
  std::string line_;
  std::function<void()> after_;
  std::shared_ptr<ControlSession*> self_ = std::make_shared<ControlSession*>(this);  // expires with the session
};

}  // namespace

ControlServer::ControlServer(uv_loop_t* loop, Handler& handler)
    : handler_(handler),
      server_(loop, {.max_request = control::kMaxLine, .timeout = std::chrono::milliseconds(10'000)},
              [this](std::intptr_t fd) -> std::unique_ptr<ShortServer::Session> {
                const auto uid = platform::peer_uid(fd);
                const bool allowed =
                    uid && (*uid == platform::effective_uid() || *uid == 0 || (allowed_extra_ && *uid == *allowed_extra_));
                std::optional<std::string> refusal;
                if (!allowed) {
                  const std::string who = uid ? "uid " + std::to_string(*uid) : "an unknown user";
                  log_event("control_refused", {{"uid", uid ? LogValue(*uid) : LogValue("unknown")}});
                  refusal = "permission denied: " + who + " is not the supervisor's user";
                }
                return std::make_unique<ControlSession>(handler_, followers_, std::move(refusal));
              }) {}

ControlServer::~ControlServer() { close(); }

int ControlServer::listen(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_socket(std::filesystem::symlink_status(path, ec))) std::filesystem::remove(path, ec);
  const int rc = server_.listen_pipe(path);
  if (rc == 0) path_ = path;
  return rc;
}

void ControlServer::close() {
  followers_.clear();
  server_.close();
  if (!path_.empty()) {
    std::error_code ec;
    std::filesystem::remove(path_, ec);
    path_.clear();
  }
}

}  // namespace handoff
