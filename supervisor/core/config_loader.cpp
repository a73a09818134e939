#include "supervisor/core/config_loader.h"

#include "supervisor/core/routing/dispatch_policy.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include <yaml-cpp/yaml.h>

#include "supervisor/core/config_schema.h"
#include "supervisor/core/package_runner.h"
#include "supervisor/core/scoreboard_name.h"
#include "supervisor/core/worker_env.h"

namespace handoff {
namespace {

// A worker's argv and environment must fit what the OS copies into a new process, or
// every start fails (E2BIG) and the slot goes round its backoff for ever.
void check_exec_size(const Config& config, const AppConfig& app, const std::string& field,
                     const Environment& inherited, const HostFacts& host, ConfigErrors& errors) {
  const auto env = largest_worker_environment(inherited, app, scoreboard_name(config.control_socket));
  const auto overflow = host.exec_overflow(app.command, env);
  if (!overflow) return;
  if (overflow->argument) {
    errors.push_back({config.file, app.command_where, field + ".command", overflow->message});
  } else if (overflow->variable) {
    const std::string& assignment = env[*overflow->variable];
    const std::string name = assignment.substr(0, assignment.find('='));
    if (app.env.contains(name))
      errors.push_back({config.file, app.env_where, field + ".env." + name, overflow->message});
    else
      errors.push_back(
          {config.file, app.where, field, overflow->message + " (it comes from the supervisor's environment)"});
  } else {
    errors.push_back({config.file, app.where, field, overflow->message});
  }
}

std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

std::variant<Config, ConfigErrors> parse_config(const std::string& text, const std::string& file,
                                                const std::string& base_dir, const HostFacts& host) {
  ConfigErrors errors;
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::ParserException& e) {
    errors.push_back({file, {e.mark.line + 1, e.mark.column + 1}, "", "invalid YAML: " + e.msg});
    return errors;
  }
  if (!root.IsDefined() || root.IsNull()) {
    errors.push_back({file, {}, "", "the file is empty"});
    return errors;
  }
  Config config;
  try {
    read_config(root, file, base_dir, host, config, errors);
  } catch (const YAML::Exception& e) {  // e.g. a key that is itself a mapping
    errors.push_back({file, {e.mark.line + 1, e.mark.column + 1}, "", e.msg});
  }
  if (!errors.empty()) return errors;
  return config;
}

std::variant<Config, ConfigErrors> load_config(const std::string& path, const HostFacts& host) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return ConfigErrors{{path, {}, "", "cannot read the file"}};
  std::stringstream text;
  text << in.rdbuf();
  const auto dir = std::filesystem::absolute(path).parent_path().lexically_normal().string();
  return parse_config(text.str(), path, dir, host);
}

ConfigErrors check_environment(Config& config, const HostFacts& host) {
  ConfigErrors errors;
  const auto inherited = host.environment();
  auto resolve = [&](RunAs& run_as, Location where, const std::string& field) {
    if (run_as.user.empty()) {
      if (!run_as.group.empty()) errors.push_back({config.file, where, field + ".group", "a group needs a user too"});
      return;
    }
    std::string why;
    if (auto ids = host.resolve_user(run_as.user, run_as.group, why)) {
      run_as.uid = ids->uid;
      run_as.gid = ids->gid;
    } else {
      errors.push_back({config.file, where, field + ".user", why});
    }
  };
  resolve(config.run_as, {}, "");
  if (!config.log_file.path.empty()) {
    std::error_code ec;
    const auto dir = std::filesystem::path(config.log_file.path).parent_path();
    if (!std::filesystem::is_directory(dir, ec))
      errors.push_back({config.file, config.log_file.where, "log_file", "no such directory: " + dir.string()});
  }
  for (std::size_t i = 0; i < config.listeners.size(); ++i) {
    std::string why;
    if (config.listeners[i].is_httpsys() && !host.httpsys_available(why))
      errors.push_back({config.file, config.listeners[i].httpsys_where, "listeners[" + std::to_string(i) + "].httpsys", why});
  }
  for (std::size_t i = 0; i < config.apps.size(); ++i) {
    auto& app = config.apps[i];
    const std::string field = "apps[" + std::to_string(i) + "]";
    std::error_code ec;
    if (!std::filesystem::is_directory(app.cwd, ec)) {
      errors.push_back({config.file, app.where, field + ".cwd", "no such directory: " + app.cwd});
      continue;
    }
    resolve(app.run_as, app.where, field);
    // A rule that loads code (a plugin) is tried now, so a bad one stops the start.
    std::string why;
    if (!make_policy(app.policy, host.load_library, why)) errors.push_back({config.file, app.policy_where, field + ".policy", why});
    if (auto problem = package_runner_problem(app.command, read_text(std::filesystem::path(app.cwd) / "package.json"))) {
      errors.push_back({config.file, app.command_where, field + ".command", *problem});
      continue;
    }
    auto program = host.find_executable(app.command.front(), app.cwd);
    if (!program) {
      errors.push_back({config.file, app.command_where, field + ".command",
                        "command not found: \"" + app.command.front() + "\" (looked in " +
                            (app.command.front().find('/') != std::string::npos ? "cwd " + app.cwd : "PATH") + ")"});
      continue;
    }
    app.command.front() = *program;
    check_exec_size(config, app, field, inherited, host, errors);
  }
  return errors;
}

}  // namespace handoff
