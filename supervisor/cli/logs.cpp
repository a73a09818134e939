#include "supervisor/cli/logs.h"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <set>
#include <variant>

#include "supervisor/cli/commands.h"
#include "supervisor/cli/control_client.h"
#include "supervisor/core/config_loader.h"
#include "supervisor/core/log_record.h"
#include "supervisor/core/log_tail.h"
#include "supervisor/edge/real_host.h"

namespace handoff::commands {
namespace {

constexpr int kFailed = 1;
constexpr int kUsage = 2;

bool wanted(std::string_view line, const std::string& app) { return app.empty() || app_of_log_line(line) == app; }

void print(const std::vector<std::string>& lines) {
  for (const auto& l : lines) {
    std::fwrite(l.data(), 1, l.size(), stdout);
    std::fputc('\n', stdout);
  }
  std::fflush(stdout);
}

// The follow stream: the master's answer line, then log lines until it closes.
struct Follow {
  const LogsOptions* options = nullptr;
  std::string log_file;  // from the config, or the master's answer
  bool answered = false;
  std::set<std::string> shown;  // tail lines the stream may repeat (written before we read the file)
  std::string error;

  bool on_line(std::string_view line) {
    if (!answered) {
      answered = true;
      auto reply = control::decode_reply(line);
      if (auto* why = std::get_if<std::string>(&reply)) return fail(*why);
      const auto& r = std::get<control::Reply>(reply);
      if (!r.ok) return fail(r.message);
      if (log_file.empty()) log_file = r.log_file;
      // Subscribed first, then the file: a line written in between comes both ways, and
      // the stream's copy is skipped; none is missed.
      if (!log_file.empty() && options->lines > 0) {
        auto tail = last_log_lines(log_file, static_cast<std::size_t>(options->lines), options->app);
        shown.insert(tail.begin(), tail.end());
        print(tail);
      }
      return true;
    }
    if (!shown.empty()) {
      if (shown.erase(std::string(line))) return true;
      shown.clear();
    }
    std::fwrite(line.data(), 1, line.size(), stdout);
    std::fputc('\n', stdout);
    std::fflush(stdout);
    return true;
  }

  bool fail(std::string why) {
    error = std::move(why);
    return false;
  }
};

int follow(const std::string& socket, const std::string& log_file, const LogsOptions& options) {
  Follow stream;
  stream.options = &options;
  stream.log_file = log_file;
  const auto ended = control::exchange(
      socket, control::Request{.command = control::Command::logs, .app = options.app, .follow = true},
      [&](std::string_view line) { return stream.on_line(line); });
  std::fflush(stdout);
  if (const auto& why = stream.error.empty() ? ended : stream.error; !why.empty()) {
    std::fprintf(stderr, "supervisor logs: %s: %s\n", socket.c_str(), why.c_str());
    return kFailed;
  }
  std::fprintf(stderr, "supervisor logs: the supervisor closed the stream (it stopped)\n");
  return 0;
}

}  // namespace

std::vector<std::string> last_log_lines(const std::string& path, std::size_t n, const std::string& app) {
  std::ifstream in(path, std::ios::binary);
  if (!in || n == 0) return {};
  in.seekg(0, std::ios::end);
  const auto size = static_cast<std::uint64_t>(in.tellg());
  return last_lines(
      size,
      [&](std::uint64_t offset, std::size_t bytes) {
        std::string piece(bytes, '\0');
        in.seekg(static_cast<std::streamoff>(offset));
        in.read(piece.data(), static_cast<std::streamsize>(bytes));
        piece.resize(static_cast<std::size_t>(std::max<std::streamsize>(0, in.gcount())));
        return piece;
      },
      n, [&](std::string_view line) { return wanted(line, app); });
}

int logs(const std::string& config_path, const std::string& socket_path, const LogsOptions& options) {
  std::string log_file;
  std::string socket = socket_path.empty() ? std::string() : locate_socket({}, socket_path);
  if (!config_path.empty()) {
    auto loaded = load_config(config_path, real_host());
    if (auto* errors = std::get_if<ConfigErrors>(&loaded)) {
      for (const auto& e : *errors) std::fprintf(stderr, "%s\n", e.to_string().c_str());
      return kUsage;
    }
    const auto& config = std::get<Config>(loaded);
    log_file = config.log_file.path;
    if (socket.empty()) socket = config.control_socket;
  }
  if (socket.empty() && log_file.empty()) {
    locate_socket({}, {});  // says what to give
    return kUsage;
  }
  if (options.follow) return follow(socket, log_file, options);
  if (log_file.empty()) {
    // Only the master knows (no config given): ask it.
    auto answer = control::call(socket, control::Request{.command = control::Command::logs, .app = options.app});
    if (auto* why = std::get_if<std::string>(&answer)) {
      std::fprintf(stderr, "supervisor logs: %s: %s\n", socket.c_str(), why->c_str());
      return kFailed;
    }
    log_file = std::get<control::Reply>(answer).log_file;
  }
  if (log_file.empty()) {
    std::fprintf(stderr,
                 "supervisor logs: this supervisor has no log_file (its log is on its stderr); --follow streams "
                 "it from now on\n");
    return kFailed;
  }
  if (!std::ifstream(log_file)) {
    std::fprintf(stderr, "supervisor logs: cannot read %s\n", log_file.c_str());
    return kFailed;
  }
  print(last_log_lines(log_file, static_cast<std::size_t>(std::max(0, options.lines)), options.app));
  return 0;
}

}  // namespace handoff::commands
