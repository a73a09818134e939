// The registry of routing rules. One class per rule, one line per rule in the table.
#include "supervisor/routing/consistent_hash.h"
#include "supervisor/routing/dispatch_policy.h"

namespace handoff {
namespace {

class RoundRobin final : public DispatchPolicy {
 public:
  Decision pick(const RouteInput&, std::span<const SlotView> slots) override {
    for (std::size_t step = 0; step < slots.size(); ++step) {
      const std::size_t candidate = (next_ + step) % slots.size();
      if (slots[candidate].ready) {
        next_ = candidate + 1;
        return Decision::to(candidate);
      }
    }
    return Decision::wait();
  }

 private:
  std::size_t next_ = 0;
};

class IpHash final : public DispatchPolicy {
 public:
  Decision pick(const RouteInput& input, std::span<const SlotView> slots) override {
    if (slots.empty()) return Decision::wait();
    return Decision::to(jump_hash(key_hash(input.client_address), static_cast<std::uint32_t>(slots.size())));
  }
};

template <class T>
std::unique_ptr<DispatchPolicy> make(const RuleConfig&, std::string&) {
  return std::make_unique<T>();
}

constexpr PolicyEntry kPolicies[] = {
    {"round_robin", "each new connection goes to the next ready worker", false, false, RuleParameters::none, &make<RoundRobin>},
    {"ip_hash", "the client address picks the worker (jump consistent hash); a down worker's clients wait for it",
     true, false, RuleParameters::none, &make<IpHash>},
};

}  // namespace

std::span<const PolicyEntry> policy_registry() { return kPolicies; }

const PolicyEntry* find_policy(std::string_view name) {
  for (const auto& entry : kPolicies)
    if (entry.name == name) return &entry;
  return nullptr;
}

std::unique_ptr<DispatchPolicy> make_policy(const RuleConfig& config, std::string& error) {
  const auto* entry = find_policy(config.name);
  if (!entry) {
    error = "unknown policy \"" + config.name + "\"";
    return nullptr;
  }
  return entry->make(config, error);
}

}  // namespace handoff
