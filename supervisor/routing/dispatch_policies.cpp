// The registry of routing rules. One class per rule, one line per rule in the table.
#include <algorithm>
#include <cctype>

#include "protocols/consistent_hash.h"
#include "supervisor/routing/dispatch_policy.h"
#include "supervisor/routing/plugin_policy.h"
#include "protocols/route_key.h"

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

// The L7 rules: a key from the request head names the slot, by consistent hash or, for
// `url_segment` with `direct`, as its number. Without a key: 404, or the fallback rule.
class KeyRule : public DispatchPolicy {
 public:
  explicit KeyRule(const RuleConfig& config) : config_(config) {
    if (config.missing_key != "404") {
      RuleConfig fallback;
      fallback.name = config.missing_key;
      std::string ignored;  // the schema only lets rules without parameters through
      fallback_ = make_policy(fallback, ignored);
    }
  }

  Decision pick(const RouteInput& input, std::span<const SlotView> slots) override {
    if (slots.empty()) return Decision::wait();
    if (input.head)
      if (auto key = key_of(*input.head)) {
        if (!config_.direct) return Decision::to(slot_for_key(*key, slots.size()));
        if (auto slot = direct_slot(*key, slots.size())) return Decision::to(*slot);
      }
    if (fallback_) return fallback_->pick(input, slots);
    return Decision::refuse(404);
  }

 protected:
  virtual std::optional<std::string_view> key_of(const RequestHead& head) = 0;
  const RuleConfig config_;

 private:
  std::unique_ptr<DispatchPolicy> fallback_;
};

class UrlSegment final : public KeyRule {
 public:
  using KeyRule::KeyRule;
  std::optional<std::string_view> key_of(const RequestHead& head) override {
    return path_segment(head.path, config_.index);
  }
};

class Host final : public KeyRule {
 public:
  using KeyRule::KeyRule;
  std::optional<std::string_view> key_of(const RequestHead& head) override {
    auto host = head.header("Host");
    if (!host) return std::nullopt;
    auto name = host_without_port(*host);
    if (!name) return std::nullopt;
    // Host names are case-insensitive: Example.COM and example.com are one key.
    lowered_.assign(name->begin(), name->end());
    std::transform(lowered_.begin(), lowered_.end(), lowered_.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return std::string_view(lowered_);
  }

 private:
  std::string lowered_;
};

class Header final : public KeyRule {
 public:
  using KeyRule::KeyRule;
  std::optional<std::string_view> key_of(const RequestHead& head) override {
    auto value = head.header(config_.key_name);
    if (!value || value->empty()) return std::nullopt;
    return value;
  }
};

class Cookie final : public KeyRule {
 public:
  using KeyRule::KeyRule;
  std::optional<std::string_view> key_of(const RequestHead& head) override {
    for (const auto& h : head.headers)
      if (h.name.size() == 6 && std::equal(h.name.begin(), h.name.end(), "cookie", [](char a, char b) {
            return std::tolower(static_cast<unsigned char>(a)) == b;
          }))
        if (auto value = cookie_value(h.value, config_.key_name)) return value;
    return std::nullopt;
  }
};

class Query final : public KeyRule {
 public:
  using KeyRule::KeyRule;
  std::optional<std::string_view> key_of(const RequestHead& head) override {
    return query_value(head.query, config_.key_name);
  }
};

template <class T>
std::unique_ptr<DispatchPolicy> make(const RuleConfig&, std::string&) {
  return std::make_unique<T>();
}

template <class T>
std::unique_ptr<DispatchPolicy> make_keyed(const RuleConfig& config, std::string&) {
  return std::make_unique<T>(config);
}

using P = RuleParameters;

// name, help, affinity, needs_head, worker_checkable, parameters, make
constexpr PolicyEntry kPolicies[] = {
    {"round_robin", "each new connection goes to the next ready worker", false, false, false, P::none,
     &make<RoundRobin>},
    {"ip_hash", "the client address picks the worker (jump consistent hash); a down worker's clients wait for it",
     true, false, false, P::none, &make<IpHash>},
    {"url_segment",
     "`{url_segment: {index: N, direct: BOOL}}`: the Nth path segment is the key; with `direct`, a number "
     "addresses a slot (`/3/...` is slot 3)",
     true, true, true, P::url_segment, &make_keyed<UrlSegment>},
    {"host", "the Host header's name (without port, any case) is the key", true, true, true, P::none,
     &make_keyed<Host>},
    {"header", "`{header: NAME}`: that request header's value is the key", true, true, true, P::name,
     &make_keyed<Header>},
    {"cookie", "`{cookie: NAME}`: that cookie's value is the key", true, true, true, P::name, &make_keyed<Cookie>},
    {"query", "`{query: NAME}`: that query parameter's value (as sent) is the key", true, true, true, P::name,
     &make_keyed<Query>},
    {"plugin",
     "`{plugin: {path: LIB, config: STRING}}`: a shared library with the C ABI of protocols/affinity.h picks the "
     "slot",
     true, true, false, P::plugin, &make_plugin_policy},
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
