#include <doctest/doctest.h>

#include "supervisor/core/package_runner.h"

using namespace handoff;

namespace {

const char* kPackage = R"({"name": "app", "scripts": {"start": "node server.js", "dev": "NODE_ENV=dev node --watch server.js"}})";

std::string problem(const std::vector<std::string>& argv, std::string_view package_json = kPackage) {
  auto p = package_runner_problem(argv, package_json);
  REQUIRE(p.has_value());
  return *p;
}

}  // namespace

TEST_CASE("npm start is refused, with the script it would run") {
  CHECK(problem({"npm", "start"}) ==
        "npm runs the app under a Node process of its own, which takes the IPC channel (fd 3) for itself, so the app "
        "never hears from the master (with `ready: on_spawn` too: the sockets would go to npm); put the script's "
        "command in `command` (variables it sets in `env`): package.json's scripts.start is `node server.js`");
  CHECK(problem({"/usr/bin/npm", "--silent", "run", "dev"}).ends_with("scripts.dev is `NODE_ENV=dev node --watch server.js`"));
  CHECK(problem({"yarn", "dev"}).starts_with("yarn runs the app"));
  CHECK(problem({"yarn", "dev"}).ends_with("scripts.dev is `NODE_ENV=dev node --watch server.js`"));
  CHECK(problem({"pnpm", "run", "start"}).ends_with("scripts.start is `node server.js`"));
  CHECK(problem({"corepack", "pnpm", "start"}).starts_with("pnpm runs the app"));
  CHECK(problem({"node", "/usr/lib/node_modules/npm/bin/npm-cli.js", "start"}).starts_with("npm runs the app"));
  CHECK(problem({"C:\\Program Files\\nodejs\\NPM.CMD", "start"}).find("npm runs the app") != std::string::npos);
}

TEST_CASE("without the script to quote, the message says what is missing") {
  CHECK(problem({"npm", "start"}, "").ends_with(
      "run the script's command itself (there is no package.json in the app's cwd to say it)"));
  CHECK(problem({"npm", "test"}).ends_with("run the script's command itself (package.json in the app's cwd has no "
                                           "scripts.test)"));
  CHECK(problem({"npm", "start"}, "{not json").ends_with("has no scripts.start)"));
  CHECK(problem({"npx", "my-server"}).ends_with("run the app's program itself (as `command: node server.js`)"));
}

TEST_CASE("node, a shell and other programs are not package runners") {
  CHECK_FALSE(package_runner_problem({"node", "server.js"}, kPackage));
  CHECK_FALSE(package_runner_problem({"node", "--inspect", "server.js"}, kPackage));
  CHECK_FALSE(package_runner_problem({"sh", "-c", "node server.js"}, kPackage));
  CHECK_FALSE(package_runner_problem({"./npm-like-name"}, kPackage));
  CHECK_FALSE(package_runner_problem({}, kPackage));
}
