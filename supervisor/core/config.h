// The typed configuration the supervisor runs on. Produced by config_loader from YAML;
// every field's meaning, default and error messages live in config_schema.cpp.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "protocols/defaults.h"
#include "protocols/http_settings.h"

#include "supervisor/core/routing/dispatch_policy.h"

namespace handoff {

// Where a value came from, so later checks (binding a port, finding a command) can
// point at the line that asked for it. 1-based; 0 means "not from the file".
struct Location {
  int line = 0;
  int column = 0;
};

using Milliseconds = std::chrono::milliseconds;

struct ListenerConfig {
  std::string name;     // defaults to the address text
  std::string host;     // "127.0.0.1", "::1", "0.0.0.0"
  int port = 0;
  int backlog = defaults::kBacklog;
  bool proxy_protocol = false;           // a PROXY v1/v2 header comes first
  Milliseconds head_timeout{10'000};     // for the request head (and PROXY header) to arrive: then 408
  std::size_t max_head = 16 * 1024;      // longer heads get 431
  std::size_t max_classifying = 1024;    // connections being read at once; past it the oldest go
  Location where;       // of `address`
  // Windows only: an HTTP.SYS URL prefix (`http://+:8080/`) instead of a socket. Each slot
  // of its apps gets a request queue bound to its own prefix (routing/httpsys_prefix.h).
  std::string httpsys;
  Location httpsys_where;
  bool is_httpsys() const { return !httpsys.empty(); }
};

enum class ReadyMode { sdk, on_spawn };

// Who accepts an app's connections (core/dispatch_mode.h decides): the master, which hands
// each to a slot's worker, or the kernel (Linux), from one listening socket per slot.
enum class DispatchMode { master, kernel };

// What happens to a connection whose slot has no ready worker.
enum class Unavailable {
  queue,   // wait in the slot's queue (keeps affinity)
  rehash,  // go to another ready slot
  reject,  // 503 at once
};

// The restart and recycling policy of each slot (see core/slot_machine.h).
struct LifecyclePolicy {
  Milliseconds min_delay{100};
  Milliseconds max_delay{30'000};
  Milliseconds stable_after{10'000};
  int crash_loop_exits = 5;
  Milliseconds crash_loop_window{60'000};
  Milliseconds start_timeout{30'000};
  Milliseconds ack_timeout{5'000};
  Milliseconds heartbeat_interval{1'000};
  Milliseconds heartbeat_timeout{10'000};
  Milliseconds drain_timeout{30'000};
  std::uint64_t max_rss = 0;  // bytes; 0: no limit
  std::uint64_t max_requests = 0;
  std::uint64_t max_requests_jitter = 0;
};

struct QueuePolicy {
  std::size_t max = 5000;
  Milliseconds timeout{30'000};
};

// The workers' HTTP servers (both SDKs), sent to each worker in `welcome`. Timeouts of 0
// mean none; max_requests_per_socket 0 means no limit.
// The app's `http:` section is what `welcome` carries to its workers, field for field
// (protocols/http_settings.h: the settings' names, units and defaults).
using HttpPolicy = ipc::HttpSettings;

// The app's output cache (`cache:`; core/cache/output_cache.h). Off unless the section is
// there. Responses are stored only when the worker marks them (Cache-Control public with
// max-age/s-maxage, or the Node SDK's res.cacheDuration), or for default_ttl when set.
// On an HTTP.SYS listener it is HTTP.SYS's kernel cache, and only default_ttl applies.
struct CacheConfig {
  bool enabled = false;
  std::uint64_t max_size = 64ull << 20;   // bytes of entries (keys, heads and bodies) kept
  std::uint64_t max_entry = 512ull << 10;  // a larger body is not stored
  Milliseconds default_ttl{0};            // for public responses without max-age; 0: only marked ones
  Milliseconds lock_timeout{5'000};       // how long requests held for a key's fill wait
  Milliseconds pass_ttl{10'000};          // a key whose fill was not cacheable is not held again this long
  Milliseconds stale_while_revalidate{0};  // an expired entry still answers this long while one request refreshes it
  Location where;
  bool operator==(const CacheConfig& o) const {
    return enabled == o.enabled && max_size == o.max_size && max_entry == o.max_entry &&
           default_ttl == o.default_ttl && lock_timeout == o.lock_timeout && pass_ttl == o.pass_ttl &&
           stale_while_revalidate == o.stale_while_revalidate;
  }
};

// A user to run as, resolved when the config is checked.
struct RunAs {
  std::string user;
  std::string group;
  std::optional<std::uint32_t> uid;
  std::optional<std::uint32_t> gid;
};

// The most slots an app can have (`workers`, `supervisor scale`).
inline constexpr int kMaxWorkers = 4096;

struct AppConfig {
  std::string name;
  std::vector<std::string> command;  // argv; argv[0] resolved against PATH and cwd
  int workers = 1;
  std::map<std::string, std::string> env;
  Location env_where;                // of `env`
  std::string cwd;                   // absolute after loading
  RuleConfig policy;                 // the routing rule and its parameters
  Location policy_where;
  ReadyMode ready = ReadyMode::sdk;
  std::optional<DispatchMode> dispatch_asked;  // `dispatch:` as written; unset: the default
  Location dispatch_where;
  // Derived (core/dispatch_mode.h): set when the kernel dispatches this app's connections
  // on this listener (its only one): each slot gets a listening socket of its own there.
  std::optional<ListenerConfig> kernel_listener;
  std::vector<std::string> listeners;  // names; all listeners when empty in the file
  std::vector<std::string> routes;     // URL prefixes it owns on a shared port; empty: all
  std::string httpsys;                 // the URL of its HTTP.SYS listener, if it has one (derived)
  LifecyclePolicy lifecycle;
  QueuePolicy queue;
  HttpPolicy http;
  CacheConfig cache;
  Unavailable on_unavailable = Unavailable::queue;
  RunAs run_as;
  int min_ready = 1;                 // /readyz wants this many ready workers
  Location where;                    // of the app entry
  Location command_where;

  // Whether two versions of an app start their workers the same way; if not, a reload
  // replaces the workers. `http` counts: workers take it once, in `welcome`.
  bool same_workers_as(const AppConfig& other) const {
    return command == other.command && env == other.env && cwd == other.cwd && ready == other.ready &&
           run_as.user == other.run_as.user && run_as.group == other.run_as.group && http == other.http &&
           httpsys == other.httpsys && (httpsys.empty() || routes == other.routes) &&  // routes: the slots' prefixes
           cache.enabled == other.cache.enabled && cache.max_entry == other.cache.max_entry &&  // welcome's offer
           (httpsys.empty() || cache.default_ttl == other.cache.default_ttl);  // (HTTP.SYS mode: its default_ttl)
  }
};

enum class LogFormat { logfmt, json };

// `log_file:`: a copy of the log in a file, rotated by size (edge/log_file.h).
struct LogFileConfig {
  std::string path;                            // absolute; empty: no file
  std::uint64_t max_size = 100 * 1024 * 1024;  // bytes; 0: never rotated by size
  int keep = 5;                                // rotated files kept: PATH.1 .. PATH.<keep>
  Location where;                              // of `log_file`, for errors
  bool operator==(const LogFileConfig& o) const { return path == o.path && max_size == o.max_size && keep == o.keep; }
};

// The admin HTTP endpoint (/metrics, /healthz, /readyz, /status). Off unless configured;
// a non-loopback address must be asked for with `public: true`.
struct AdminConfig {
  bool enabled = false;
  std::string host;
  int port = 0;
  bool is_public = false;
  Location where;  // of the address
};

struct Config {
  std::string file;  // the path it was loaded from, for messages
  std::vector<ListenerConfig> listeners;
  std::vector<AppConfig> apps;
  std::size_t ipc_max_message = 1 << 20;
  Milliseconds shutdown_timeout{30'000};
  LogFormat log_format = LogFormat::logfmt;
  LogFileConfig log_file;
  RunAs run_as;  // the supervisor drops to this user after binding
  std::string control_socket;  // absolute; by default the config file's path with `.sock`
  AdminConfig admin;
};

}  // namespace handoff
