// supervisor: the master process of a handoff cluster.
//
//   supervisor --config FILE      run the cluster
//   supervisor check FILE         validate a config and exit (0 valid, 2 invalid)
//   supervisor config-reference   print the configuration reference (docs/config.md)
//   supervisor control NAME CMD   send `reload` or `stop` to a supervisor run with --control NAME
#include <CLI/CLI.hpp>

#include <cstdio>
#include <variant>

#include "supervisor/config_loader.h"
#include "supervisor/config_schema.h"
#include "supervisor/control_endpoint.h"
#include "supervisor/master.h"
#include "supervisor/platform/platform.h"

namespace {

constexpr int kConfigInvalid = 2;

// Loads and checks a config; prints every problem. nullopt means "exit 2".
std::optional<handoff::Config> load_checked(const std::string& path) {
  auto loaded = handoff::load_config(path);
  if (auto* errors = std::get_if<handoff::ConfigErrors>(&loaded)) {
    for (const auto& e : *errors) std::fprintf(stderr, "%s\n", e.to_string().c_str());
    return std::nullopt;
  }
  auto config = std::get<handoff::Config>(std::move(loaded));
  const auto problems = handoff::check_environment(config);
  for (const auto& e : problems) std::fprintf(stderr, "%s\n", e.to_string().c_str());
  if (!problems.empty()) return std::nullopt;
  return config;
}

}  // namespace

int main(int argc, char** argv) {
  handoff::platform::use_binary_stdio();
  CLI::App cli{"handoff supervisor: accepts connections and hands each socket to a worker process"};
  cli.require_subcommand(0, 1);
  // The same command line on every platform: on Windows, CLI11 would otherwise take an
  // argument such as "/etc/handoff/cluster.yaml" for a "/option".
  cli.allow_windows_style_options(false);
  std::string config_path;
  cli.add_option("-c,--config", config_path, "cluster configuration (YAML)")->check(CLI::ExistingFile);

  auto* check = cli.add_subcommand("check", "validate a configuration file and exit");
  std::string check_path;
  check->add_option("file", check_path, "configuration file")->required();

  std::string control_name;
  cli.add_option("--control", control_name,
                 "open a control endpoint here: a Unix socket path, or on Windows a named pipe \\\\.\\pipe\\NAME");

  auto* control = cli.add_subcommand("control", "ask a running supervisor (started with --control) to reload or stop");
  std::string control_target, control_command;
  control->add_option("endpoint", control_target, "the --control name the supervisor was started with")->required();
  control->add_option("command", control_command, "reload | stop")->required()->check(CLI::IsMember({"reload", "stop"}));

  auto* reference = cli.add_subcommand("config-reference", "print the configuration reference in Markdown");

  try {
    cli.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return cli.exit(e);
  }

  if (*reference) {
    std::fputs(handoff::config_reference_markdown().c_str(), stdout);
    return 0;
  }
  if (*control) return handoff::run_control_client(control_target, control_command);
  if (*check) {
    if (!load_checked(check_path)) return kConfigInvalid;
    std::printf("%s: ok\n", check_path.c_str());
    return 0;
  }
  if (config_path.empty()) {
    std::fprintf(stderr, "%s", cli.help().c_str());
    return kConfigInvalid;
  }
  auto config = load_checked(config_path);
  if (!config) return kConfigInvalid;
  handoff::Master master(std::move(*config), config_path, control_name);
  return master.run();
}
