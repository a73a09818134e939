// supervisor: the master process of a handoff cluster.
//
//   supervisor --config FILE      run the cluster
//   supervisor --version          its version and commit
//   supervisor check FILE         validate a config and exit (0 valid, 2 invalid)
//   supervisor config-reference   print the configuration reference (docs/config.md)
//   supervisor status [--json]    the slots of a running supervisor (from its scoreboard)
//   supervisor top                the same, live, every second
//   supervisor reload [--config-only] | restart APP | stop | scale APP N | cache purge [APP] [PREFIX]
//                                 through its control socket; reload and restart wait
//                                 for their rolls (--no-wait: not; --timeout SECONDS)
//   supervisor logs [APP] [-n N] [--follow]   its log_file; the live log through the socket
// The last six find the supervisor with --config FILE (its control_socket) or --socket PATH.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <variant>

#include "protocols/build_info.h"
#include "supervisor/core/config_loader.h"
#include "supervisor/core/config_schema.h"
#include "supervisor/cli/commands.h"
#include "supervisor/cli/logs.h"
#include "supervisor/edge/master.h"
#include "supervisor/edge/real_host.h"
#include "supervisor/core/descriptor_budget.h"
#include "supervisor/platform/platform.h"
#include "supervisor/platform/process_hygiene.h"
#include "supervisor/platform/worker_group.h"

namespace {

constexpr int kConfigInvalid = 2;

// Loads and checks a config; prints every problem. nullopt means "exit 2".
std::optional<handoff::Config> load_checked(const std::string& path) {
  auto loaded = handoff::load_config(path, handoff::real_host());
  if (auto* errors = std::get_if<handoff::ConfigErrors>(&loaded)) {
    for (const auto& e : *errors) std::fprintf(stderr, "%s\n", e.to_string().c_str());
    return std::nullopt;
  }
  auto config = std::get<handoff::Config>(std::move(loaded));
  const auto problems = handoff::check_environment(config, handoff::real_host());
  for (const auto& e : problems) std::fprintf(stderr, "%s\n", e.to_string().c_str());
  if (!problems.empty()) return std::nullopt;
  return config;
}

}  // namespace

int main(int argc, char** argv) {
  handoff::platform::ignore_harmless_signals();
  // Not a command for people: the process that kills the workers if the master dies.
  if (argc == 2 && argv[1] == handoff::platform::kWorkerGuardCommand) return handoff::platform::run_worker_guard();
  handoff::platform::use_binary_stdio();
  CLI::App cli{"handoff supervisor: accepts connections and hands each socket to a worker process"};
  cli.require_subcommand(0, 1);
  // The same command line on every platform: on Windows, CLI11 would otherwise take an
  // argument such as "/etc/handoff/cluster.yaml" for a "/option".
  cli.allow_windows_style_options(false);
  cli.set_version_flag("-V,--version", "handoff supervisor " + std::string(handoff::build::kVersion) + " (commit " +
                                           std::string(handoff::build::kCommit) + ")");
  std::string config_path;
  cli.add_option("-c,--config", config_path, "cluster configuration (YAML)")->check(CLI::ExistingFile);

  auto* check = cli.add_subcommand("check", "validate a configuration file and exit");
  std::string check_path;
  check->add_option("file", check_path, "configuration file")->required();

  auto* reference = cli.add_subcommand("config-reference", "print the configuration reference in Markdown");

  // The operator's commands, each told where the supervisor is.
  struct Target {
    std::string config, socket;
  };
  Target target;
  auto locate = [&](CLI::App* sub) {
    sub->add_option("-c,--config", target.config, "the supervisor's configuration (for its control_socket)");
    sub->add_option("-s,--socket", target.socket, "the supervisor's control socket");
    return sub;
  };
  bool json = false;
  auto* status = locate(cli.add_subcommand("status", "show every slot: pid, state, uptime, restarts, requests, memory"));
  status->add_flag("--json", json, "JSON, as the admin endpoint's /status");
  auto* top = locate(cli.add_subcommand("top", "the status, refreshed every second (q quits)"));
  auto* reload = locate(cli.add_subcommand(
      "reload", "read the config again, apply it and roll every app's workers one slot at a time (as SIGHUP)"));
  bool config_only = false;
  reload->add_flag("--config-only", config_only,
                   "roll only the apps whose workers' config (command, env, cwd, user, http) changed");
  auto* restart = locate(cli.add_subcommand("restart", "roll one app's workers one slot at a time"));
  std::string restart_app;
  restart->add_option("app", restart_app, "app name")->required();
  handoff::commands::RollOptions roll_options;
  auto* scale = locate(cli.add_subcommand("scale", "set an app's number of workers until the next reload"));
  for (auto* sub : {reload, restart, scale}) {
    sub->add_flag("--no-wait", [&](std::int64_t) { roll_options.wait = false; },
                  "return once the supervisor took the request, not when the rolls (or the scale) ended");
    sub->add_option_function<int>(
           "--timeout", [&](int seconds) { roll_options.timeout = std::chrono::seconds(seconds); },
           "wait at most this many seconds (default: the apps' start_timeout per slot plus drain_timeout)")
        ->check(CLI::PositiveNumber);
  }
  auto* stop = locate(cli.add_subcommand("stop", "drain every worker and exit (as SIGTERM)"));
  std::string scale_app;
  int scale_workers = 0;
  scale->add_option("app", scale_app, "app name")->required();
  scale->add_option("workers", scale_workers, "number of workers")
      ->required()
      ->check(CLI::Range(1, handoff::kMaxWorkers));
  auto* cache = cli.add_subcommand("cache", "the apps' output caches");
  cache->require_subcommand(1);
  auto* purge = locate(cache->add_subcommand("purge", "drop cached responses: of APP (all apps), under PREFIX (all)"));
  std::string purge_app, purge_prefix;
  purge->add_option("app", purge_app, "app name");
  purge->add_option("prefix", purge_prefix, "only targets starting with this, as /img/");
  auto* logs = locate(cli.add_subcommand("logs", "the last lines of the log_file; --follow: the live log"));
  handoff::commands::LogsOptions logs_options;
  logs->add_option("app", logs_options.app, "only this app's lines");
  logs->add_option("-n,--lines", logs_options.lines, "how many of the last lines (default 10)")->check(CLI::Range(0, 1000000));
  logs->add_flag("-f,--follow", logs_options.follow, "then the lines as they are written, until the supervisor stops");

  try {
    cli.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return cli.exit(e);
  }

  if (*reference) {
    std::fputs(handoff::config_reference_markdown().c_str(), stdout);
    return 0;
  }
  if (*logs) return handoff::commands::logs(target.config.empty() ? config_path : target.config, target.socket, logs_options);
  if (*status || *top || *reload || *restart || *stop || *scale || *purge) {
    const std::string socket =
        handoff::commands::locate_socket(target.config.empty() ? config_path : target.config, target.socket);
    if (socket.empty()) return kConfigInvalid;
    if (*status) return handoff::commands::status(socket, json);
    if (*top) return handoff::commands::top(socket);
    if (*reload) return handoff::commands::reload(socket, config_only, roll_options);
    if (*restart) return handoff::commands::restart(socket, restart_app, roll_options);
    if (*stop) return handoff::commands::stop(socket);
    if (*purge) return handoff::commands::cache_purge(socket, purge_app, purge_prefix);
    return handoff::commands::scale(socket, scale_app, scale_workers, roll_options);
  }
  if (*check) {
    auto config = load_checked(check_path);
    if (!config) return kConfigInvalid;
    // A warning, not an error: the supervisor's own limit may differ from this shell's.
    if (const auto limit = handoff::platform::raise_descriptor_limit()) {
      const auto needed = handoff::descriptors_needed(*config);
      if (needed > limit->now)
        std::fprintf(stderr,
                     "%s: warning: this config can hold %llu descriptors at once, over this process's limit of %llu "
                     "(lower max_classifying or queue.max, or raise the hard limit)\n",
                     check_path.c_str(), static_cast<unsigned long long>(needed),
                     static_cast<unsigned long long>(limit->now));
    }
    std::printf("%s: ok\n", check_path.c_str());
    return 0;
  }
  if (config_path.empty()) {
    std::fprintf(stderr, "%s", cli.help().c_str());
    return kConfigInvalid;
  }
  auto config = load_checked(config_path);
  if (!config) return kConfigInvalid;
  handoff::platform::keep_capabilities_from_workers();
  handoff::Master master(std::move(*config), config_path);
  return master.run();
}
