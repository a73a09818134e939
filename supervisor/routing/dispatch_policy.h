// Routing rules, found by name in one registry (dispatch_policies.cpp). Adding a rule
// touches that file and its test, never the dispatcher.
//
// A policy is pure: it sees the connection's routing input and the slots' states and
// names a slot. It does no I/O and owns no sockets.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string_view>

namespace handoff {

struct SlotView {
  bool ready = false;
};

struct RouteInput {
  // The client's address bytes: 4 for IPv4 (also for IPv4-mapped IPv6), 16 for IPv6.
  std::span<const std::byte> client_address;
};

class DispatchPolicy {
 public:
  virtual ~DispatchPolicy() = default;
  // The slot (0-based) for this connection, or nullopt when none can take it now; the
  // caller then holds the connection until a slot becomes ready and asks again.
  // Affinity policies name a slot even when it is down: its queue keeps the order.
  virtual std::optional<std::size_t> pick(const RouteInput& input, std::span<const SlotView> slots) = 0;
};

struct PolicyEntry {
  std::string_view name;
  std::string_view help;  // one line, used in the config reference
  // Whether a connection belongs to the slot the rule named. Without affinity, a
  // connection waiting for a slot that is down may go to any slot that comes up first.
  bool affinity;
  std::unique_ptr<DispatchPolicy> (*make)();
};

std::span<const PolicyEntry> policy_registry();
const PolicyEntry* find_policy(std::string_view name);

}  // namespace handoff
