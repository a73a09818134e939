#include "supervisor/core/package_runner.h"

#include <algorithm>
#include <array>
#include <cctype>

#include <nlohmann/json.hpp>

namespace handoff {
namespace {

// "npm", "/usr/bin/npm", "npm.cmd", "npm-cli.js" (node .../npm-cli.js), in any case.
std::string program_name(const std::string& path) {
  // Either separator on every platform: a config names a Windows program with '\\'.
  const auto separator = path.find_last_of("/\\");
  std::string name = separator == std::string::npos ? path : path.substr(separator + 1);
  if (const auto dot = name.rfind('.'); dot != std::string::npos && dot > 0) name.resize(dot);
  std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
  if (name.ends_with("-cli")) name.resize(name.size() - 4);  // npm-cli.js, npx-cli.js
  return name;
}

constexpr std::array<std::string_view, 7> kRunners = {"npm", "npx", "yarn", "yarnpkg", "pnpm", "pnpx", "corepack"};

bool is_runner(const std::string& name) {
  return std::find(kRunners.begin(), kRunners.end(), name) != kRunners.end();
}

// The words after the program that are not options.
std::vector<std::string> words(const std::vector<std::string>& argv, std::size_t from) {
  std::vector<std::string> out;
  for (std::size_t i = from; i < argv.size(); ++i)
    if (!argv[i].starts_with("-")) out.push_back(argv[i]);
  return out;
}

// The package.json script a runner's arguments name: `npm start`, `npm run dev`,
// `yarn dev`, `pnpm run dev`. Empty for anything else (`npx x`, `npm exec`).
std::string script_named(const std::string& runner, const std::vector<std::string>& args) {
  if (args.empty()) return "";
  const std::string& first = args[0];
  if (first == "run" || first == "run-script" || first == "rum" || first == "urn")
    return args.size() > 1 ? args[1] : "";
  if (runner == "npm") return first == "start" || first == "test" || first == "stop" || first == "restart" ? first : "";
  if (runner == "yarn" || runner == "yarnpkg" || runner == "pnpm")
    return first == "exec" || first == "dlx" || first == "node" ? "" : first;
  return "";
}

std::string what_to_run(const std::string& script, std::string_view package_json) {
  if (script.empty()) return "run the app's program itself (as `command: node server.js`)";
  if (package_json.empty()) return "run the script's command itself (there is no package.json in the app's cwd to say it)";
  const auto json = nlohmann::json::parse(package_json, nullptr, /*allow_exceptions=*/false);
  const auto scripts = json.is_object() ? json.find("scripts") : json.end();
  if (scripts == json.end() || !scripts->is_object() || !scripts->contains(script) || !(*scripts)[script].is_string())
    return "run the script's command itself (package.json in the app's cwd has no scripts." + script + ")";
  return "put the script's command in `command` (variables it sets in `env`): package.json's scripts." + script +
         " is `" + (*scripts)[script].get<std::string>() + "`";
}

}  // namespace

std::optional<std::string> package_runner_problem(const std::vector<std::string>& argv, std::string_view package_json) {
  if (argv.empty()) return std::nullopt;
  std::size_t at = 0;
  std::string runner = program_name(argv[0]);
  // `node .../npm-cli.js start`, `corepack pnpm start`: the runner is the next word.
  if (runner == "node" || runner == "nodejs" || runner == "corepack") {
    const auto rest = words(argv, 1);
    if (!rest.empty() && is_runner(program_name(rest[0]))) {
      runner = program_name(rest[0]);
      at = static_cast<std::size_t>(std::find(argv.begin() + 1, argv.end(), rest[0]) - argv.begin());
    } else if (runner != "corepack") {
      return std::nullopt;
    }
  }
  if (!is_runner(runner)) return std::nullopt;
  return runner + " runs the app under a Node process of its own, which takes the IPC channel (fd 3) for itself, so "
                  "the app never hears from the master (with `ready: on_spawn` too: the sockets would go to " +
         runner + "); " + what_to_run(script_named(runner, words(argv, at + 1)), package_json);
}

}  // namespace handoff
