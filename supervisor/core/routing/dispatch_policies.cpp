// The registry of routing rules. One class per rule, one line per rule in the table.
#include "protocols/address_hash.h"
#include "protocols/route_key.h"
#include "supervisor/core/routing/dispatch_policy.h"
#include "supervisor/core/routing/plugin_policy.h"

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
  bool reads_load() const override { return false; }

 private:
  std::size_t next_ = 0;
};

// The ready slot with the least load (SlotView::load: waiting, in flight and open); among
// equals, the next in turn, so an idle app still spreads its connections.
class LeastConnections final : public DispatchPolicy {
 public:
  Decision pick(const RouteInput&, std::span<const SlotView> slots) override {
    std::optional<std::size_t> best;
    for (std::size_t step = 0; step < slots.size(); ++step) {
      const std::size_t candidate = (next_ + step) % slots.size();
      if (slots[candidate].ready && (!best || slots[candidate].load < slots[*best].load)) best = candidate;
    }
    if (!best) return Decision::wait();
    next_ = *best + 1;
    return Decision::to(*best);
  }

 private:
  std::size_t next_ = 0;
};

// The address's bucket, then jump hash (protocols/address_hash.h): the function the
// kernel's program computes under kernel dispatch, so both intakes agree.
class IpHash final : public DispatchPolicy {
 public:
  Decision pick(const RouteInput& input, std::span<const SlotView> slots) override {
    if (slots.empty()) return Decision::wait();
    return Decision::to(slot_for_address(input.client_address, slots.size()));
  }
  bool reads_load() const override { return false; }
};

// The L7 rules: a key from the request head (route_key.h) names the slot, by consistent
// hash or, for `url_segment` with `direct`, as its number. Without a key: 404, or the
// fallback rule.
class KeyRule final : public DispatchPolicy {
 public:
  explicit KeyRule(const RuleConfig& config) : config_(config), source_(key_source_named(config.name)) {
    if (config.missing_key != "404") {
      RuleConfig fallback;
      fallback.name = config.missing_key;
      std::string ignored;  // the schema only lets rules without parameters (and plugins) through
      fallback_ = make_policy(fallback, LibraryLoader{}, ignored);
    }
  }

  Decision pick(const RouteInput& input, std::span<const SlotView> slots) override {
    if (slots.empty()) return Decision::wait();
    if (input.head)
      if (auto key = rule_key(source_, config_.index, config_.key_name, input.head->path, input.head->query,
                              input.head->headers, lowered_)) {
        if (!config_.direct) return Decision::to(slot_for_key(*key, slots.size()));
        if (auto slot = direct_slot(*key, slots.size())) return Decision::to(*slot);
      }
    if (fallback_) return fallback_->pick(input, slots);
    return Decision::refuse(404);
  }
  bool reads_load() const override { return fallback_ && fallback_->reads_load(); }

 private:
  const RuleConfig config_;
  const KeySource source_;
  std::unique_ptr<DispatchPolicy> fallback_;
  std::string lowered_;  // a host key, lowercased
};

template <class T>
std::unique_ptr<DispatchPolicy> make(const RuleConfig&, const LibraryLoader&, std::string&) {
  return std::make_unique<T>();
}

template <class T>
std::unique_ptr<DispatchPolicy> make_keyed(const RuleConfig& config, const LibraryLoader&, std::string&) {
  return std::make_unique<T>(config);
}

using P = RuleParameters;

// A rule that takes its key from the request: named by its KeySource (route_key.h), the
// one list of those names, which the SDKs share.
constexpr PolicyEntry keyed(KeySource key, std::string_view help, RuleParameters parameters) {
  return {name_of(key), help, true, true, key, parameters, &make_keyed<KeyRule>};
}

// name, help, affinity, needs_head, key, parameters, make
constexpr PolicyEntry kPolicies[] = {
    {"round_robin", "each new connection goes to the next ready worker", false, false, KeySource::none, P::none,
     &make<RoundRobin>},
    {"least_connections",
     "each new connection goes to the ready worker with the fewest connections (waiting for it, being handed "
     "to it, and open in it as it reports them)",
     false, false, KeySource::none, P::none, &make<LeastConnections>},
    {"ip_hash", "the client address picks the worker (a 32-bit mix into 1024 buckets, jump consistent hash onto the workers; under kernel dispatch the kernel computes the same); a down worker's clients wait for it",
     true, false, KeySource::none, P::none, &make<IpHash>},
    keyed(KeySource::url_segment,
          "`{url_segment: {index: N, direct: BOOL}}`: the Nth path segment is the key; with `direct`, a number "
          "addresses a slot (`/3/...` is slot 3)",
          P::url_segment),
    keyed(KeySource::host, "the Host header's name (without port, any case) is the key", P::none),
    keyed(KeySource::header, "`{header: NAME}`: that request header's value is the key", P::name),
    keyed(KeySource::cookie, "`{cookie: NAME}`: that cookie's value is the key", P::name),
    keyed(KeySource::query, "`{query: NAME}`: that query parameter's value (as sent) is the key", P::name),
    {"plugin",
     "`{plugin: {path: LIB, config: STRING}}`: a shared library with the C ABI of protocols/affinity.h picks the "
     "slot",
     true, true, KeySource::none, P::plugin, &make_plugin_policy},
};

}  // namespace

std::span<const PolicyEntry> policy_registry() { return kPolicies; }

const PolicyEntry* find_policy(std::string_view name) {
  for (const auto& entry : kPolicies)
    if (entry.name == name) return &entry;
  return nullptr;
}

std::unique_ptr<DispatchPolicy> make_policy(const RuleConfig& config, const LibraryLoader& load_library,
                                            std::string& error) {
  const auto* entry = find_policy(config.name);
  if (!entry) {
    error = "unknown policy \"" + config.name + "\"";
    return nullptr;
  }
  return entry->make(config, load_library, error);
}

}  // namespace handoff
