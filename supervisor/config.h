// The typed configuration the supervisor runs on. Produced by config_loader from YAML;
// every field's meaning, default and error messages live in config_schema.cpp.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <vector>

namespace handoff {

// Where a value came from, so later checks (binding a port, finding a command) can
// point at the line that asked for it. 1-based; 0 means "not from the file".
struct Location {
  int line = 0;
  int column = 0;
};

struct ListenerConfig {
  std::string name;     // defaults to the address text
  std::string host;     // "127.0.0.1", "::1", "0.0.0.0"
  int port = 0;
  int backlog = 511;
  Location where;       // of `address`
};

enum class ReadyMode { sdk, on_spawn };

struct AppConfig {
  std::string name;
  std::vector<std::string> command;  // argv; argv[0] resolved against PATH and cwd
  int workers = 1;
  std::map<std::string, std::string> env;
  std::string cwd;                   // absolute after loading
  std::string policy = "round_robin";
  ReadyMode ready = ReadyMode::sdk;
  std::vector<std::string> listeners;  // names; all listeners when empty in the file
  Location where;                    // of the app entry
  Location command_where;
};

struct Config {
  std::string file;  // the path it was loaded from, for messages
  std::vector<ListenerConfig> listeners;
  std::vector<AppConfig> apps;
  std::size_t ipc_max_message = 1 << 20;
};

}  // namespace handoff
