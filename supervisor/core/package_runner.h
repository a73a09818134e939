// Commands that cannot reach the app: npm, npx, yarn, pnpm and corepack run it under a
// Node process of their own, and that process opens the IPC channel named in
// NODE_CHANNEL_FD (fd 3) at its start and removes the variable from what it starts. The
// app below never gets the channel, never says hello, and is killed at start_timeout;
// with `ready: on_spawn` the master's sockets would go to the package manager's process,
// which takes them and serves nothing. tests/integration/node-apps.test.js shows both with
// the real npm. A shell (`sh -c "node app.js"`) passes fd 3 and the environment on, and is
// fine. Pure: the caller reads package.json.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace handoff {

// Why `argv` (as written in the config) cannot run a worker, or nullopt. `package_json`:
// the text of package.json in the app's cwd, empty when there is none; the message quotes
// the script the command would run, to say what to write instead.
std::optional<std::string> package_runner_problem(const std::vector<std::string>& argv, std::string_view package_json);

}  // namespace handoff
