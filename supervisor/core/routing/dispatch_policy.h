// Routing rules, found by name in one registry (dispatch_policies.cpp). Adding a rule
// touches that file and its test, never the dispatcher.
//
// A policy is pure: it sees the connection's routing input and the slots' states and
// decides. It does no I/O and owns no sockets. (The `plugin` rule calls into a shared
// library through protocols/affinity.h; that library is expected to be pure as well.)
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "protocols/route_key.h"
#include "supervisor/core/routing/request_head.h"
#include "supervisor/core/shared_library.h"

namespace handoff {

struct SlotView {
  bool ready = false;
  // Connections waiting in the slot's queue or in flight to its worker, plus those its
  // worker reports open (its `stats`, or its scoreboard record, sampled each second).
  std::uint32_t load = 0;
};

struct RouteInput {
  // The client's address bytes: 4 for IPv4 (also for IPv4-mapped IPv6), 16 for IPv6. The
  // PROXY protocol's source address when the listener takes one.
  std::span<const std::byte> client_address;
  // The request head, for rules that need it (PolicyEntry::needs_head); null otherwise.
  const RequestHead* head = nullptr;
  std::string_view client_address_text = {};
  int client_port = 0;
};

// What a rule decided for one connection.
struct Decision {
  enum class Kind {
    slot,    // `slot` (0-based); affinity rules name it even when it is down
    any,     // no preference and no slot ready now: hold the connection until one is
    reject,  // answer `status` and close (404 for a missing key, a plugin's choice)
  };
  Kind kind = Kind::any;
  std::size_t slot = 0;
  int status = 0;

  static Decision to(std::size_t s) { return {Kind::slot, s, 0}; }
  static Decision wait() { return {Kind::any, 0, 0}; }
  static Decision refuse(int s) { return {Kind::reject, 0, s}; }
};

// A rule and its parameters, as the config gives them.
struct RuleConfig {
  std::string name = "round_robin";  // registry name
  int index = 1;                     // url_segment: which path segment (1-based)
  bool direct = false;               // url_segment: a number addresses a slot directly
  std::string key_name;              // header / cookie / query: which one
  std::string plugin_path;           // plugin: shared library
  std::string plugin_config;         // plugin: the string given to its create()
  // A request without a key (or with a direct number out of range): `404` (default) or
  // the name of a rule without parameters that picks instead (round_robin, ip_hash).
  std::string missing_key = "404";

  bool operator==(const RuleConfig&) const = default;
};

class DispatchPolicy {
 public:
  virtual ~DispatchPolicy() = default;
  virtual Decision pick(const RouteInput& input, std::span<const SlotView> slots) = 0;
  // Whether pick() reads SlotView::load: the dispatcher counts it before each pick only
  // then (the slots' `ready` is always current).
  virtual bool reads_load() const { return true; }
};

// A rule that cannot be made (a plugin that fails to load): the reason, for the error.
struct PolicyError {
  std::string message;
};

// What a rule takes in the config after its name.
enum class RuleParameters {
  none,         // `policy: round_robin`
  name,         // `policy: {header: X-Room}`
  url_segment,  // `policy: {url_segment: {index: 1, direct: true}}`
  plugin,       // `policy: {plugin: {path: ./affinity.so, config: "..."}}`
};

struct PolicyEntry {
  std::string_view name;
  std::string_view help;  // one line, used in the config reference
  // Whether a connection belongs to the slot the rule named. Without affinity, a
  // connection waiting for a slot that is down may go to any slot that comes up first.
  bool affinity;
  // Whether the rule reads the request head (an L7 rule): the listener then peeks it
  // before dispatch.
  bool needs_head;
  // The request key the rule reads (route_key.h), which an SDK worker can evaluate on its
  // own requests and so hand back a keep-alive request that belongs elsewhere; none for
  // rules without such a key. A key rule's name is its KeySource's name.
  KeySource key;
  RuleParameters parameters;
  std::unique_ptr<DispatchPolicy> (*make)(const RuleConfig& config, const LibraryLoader& load_library,
                                          std::string& error);
};

// Whether the rule's pick reads the connection (its address or request head), so that a
// connection routed again later must keep them: every rule but those without affinity
// and head, which go by the slots' state alone (round_robin, least_connections).
inline bool reads_connection(const PolicyEntry& entry) { return entry.affinity || entry.needs_head; }

std::span<const PolicyEntry> policy_registry();
const PolicyEntry* find_policy(std::string_view name);

// Makes the rule a config names; null with `error` set when it cannot (plugins). A
// `plugin` rule opens its library with `load_library` (the host's: edge/shared_library.h).
std::unique_ptr<DispatchPolicy> make_policy(const RuleConfig& config, const LibraryLoader& load_library,
                                            std::string& error);

}  // namespace handoff
