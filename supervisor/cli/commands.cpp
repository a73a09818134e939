#include "supervisor/cli/commands.h"

#include <cstdio>
#include <filesystem>
#include <variant>

#include "protocols/scoreboard_segment.h"
#include "protocols/unix_time.h"
#include "supervisor/core/config_loader.h"
#include "supervisor/cli/control_client.h"
#include "supervisor/edge/real_host.h"
#include "supervisor/edge/scoreboard_host.h"
#include "supervisor/core/observe/status_view.h"
#include "supervisor/platform/service.h"

namespace handoff::commands {
namespace {

constexpr int kFailed = 1;
constexpr int kUsage = 2;

// How long the client waits for a command that waits for its rolls: the supervisor
// answers by its own bound, so this only ends a wait on a supervisor that is stuck.
constexpr std::chrono::hours kRollWaitCeiling{24};

int send(const std::string& socket, const control::Request& request,
         std::chrono::milliseconds timeout = std::chrono::milliseconds(30'000)) {
  auto answer = control::call(socket, request, timeout);
  if (auto* why = std::get_if<std::string>(&answer)) {
    std::fprintf(stderr, "supervisor %s: %s: %s\n", std::string(control::to_string(request.command)).c_str(),
                 socket.c_str(), why->c_str());
    return kFailed;
  }
  const auto& reply = std::get<control::Reply>(answer);
  std::fprintf(reply.ok ? stdout : stderr, "%s\n", reply.message.c_str());
  return reply.ok ? 0 : kFailed;
}

}  // namespace

std::string locate_socket(const std::string& config_path, const std::string& socket_path) {
  if (!socket_path.empty()) return std::filesystem::absolute(socket_path).lexically_normal().string();
  if (config_path.empty()) {
    std::fprintf(stderr, "say which supervisor: --config FILE (its control_socket) or --socket PATH\n");
    return {};
  }
  auto loaded = load_config(config_path, real_host());
  if (auto* errors = std::get_if<ConfigErrors>(&loaded)) {
    for (const auto& e : *errors) std::fprintf(stderr, "%s\n", e.to_string().c_str());
    return {};
  }
  return std::get<Config>(loaded).control_socket;
}

std::unique_ptr<scoreboard::Segment> open_scoreboard(const char* command, const std::string& socket) {
  const std::string name = scoreboard_name(socket);
  std::string why;
  bool denied = false;
  auto segment = scoreboard::Segment::open(name, false, why, &denied);
  if (segment) return segment;
  if (denied)
    std::fprintf(stderr,
                 "supervisor %s: permission denied: the supervisor of %s lets only its own user read its scoreboard "
                 "%s (run as that user, or as root)\n",
                 command, socket.c_str(), name.c_str());
  else
    std::fprintf(stderr, "supervisor %s: no supervisor is running with control socket %s (scoreboard %s: %s)\n",
                 command, socket.c_str(), name.c_str(), why.c_str());
  return nullptr;
}

int status(const std::string& socket, bool json) {
  if (socket.empty()) return kUsage;
  auto segment = open_scoreboard("status", socket);
  if (!segment) return kFailed;
  const auto& header = *segment->header();
  const auto pid = header.master_pid.load();
  if (!platform::process_alive(pid)) {
    std::fprintf(stderr, "supervisor status: the supervisor (pid %lld) of %s is gone; its scoreboard is stale\n",
                 static_cast<long long>(pid), socket.c_str());
    return kFailed;
  }
  const StatusInput input = read_status(header, unix_ms());
  if (json) std::printf("%s\n", status_json(input).dump(2).c_str());
  else std::fputs(status_table(input).c_str(), stdout);
  return 0;
}

int roll(const std::string& socket, control::Request request, RollOptions options) {
  if (socket.empty()) return kUsage;
  request.wait = options.wait;
  request.timeout_ms = std::chrono::milliseconds(options.timeout).count();
  const std::chrono::milliseconds client_timeout =
      !options.wait ? std::chrono::milliseconds(30'000)
      : options.timeout.count() > 0 ? std::chrono::milliseconds(options.timeout) + std::chrono::seconds(10)
                                    : std::chrono::milliseconds(kRollWaitCeiling);
  return send(socket, request, client_timeout);
}

int reload(const std::string& socket, bool config_only, RollOptions options) {
  control::Request request{control::Command::reload, {}, 0};
  request.config_only = config_only;
  return roll(socket, std::move(request), options);
}

int restart(const std::string& socket, const std::string& app, RollOptions options) {
  return roll(socket, {control::Command::restart, app, 0}, options);
}

int scale(const std::string& socket, const std::string& app, int workers, RollOptions options) {
  return roll(socket, {control::Command::scale, app, workers}, options);
}

int cache_purge(const std::string& socket, const std::string& app, const std::string& prefix) {
  if (socket.empty()) return kUsage;
  control::Request request{control::Command::cache_purge, app, 0};
  request.prefix = prefix;
  return send(socket, request);
}

int stop(const std::string& socket) {
  if (socket.empty()) return kUsage;
  return send(socket, {control::Command::stop, {}, 0});
}

}  // namespace handoff::commands
