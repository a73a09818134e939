#include "supervisor/core/routing/plugin_policy.h"

#include <vector>

#include "protocols/affinity.h"

namespace handoff {
namespace {

handoff_string view(std::string_view s) { return {s.data(), s.size()}; }

class PluginPolicy final : public DispatchPolicy {
 public:
  ~PluginPolicy() override {
    if (context_ && destroy_) destroy_(context_);
  }

  bool load(const RuleConfig& config, const LibraryLoader& load_library, std::string& error) {
    const std::string& path = config.plugin_path;
    if (!load_library) {
      error = "cannot load plugin " + path + ": plugins are not loaded here";
      return false;
    }
    library_ = load_library(path, error);
    if (!library_) return false;
    handoff_affinity_abi_version_fn version = nullptr;
    handoff_affinity_create_fn create = nullptr;
    const std::pair<const char*, void**> symbols[] = {
        {HANDOFF_AFFINITY_SYMBOL_ABI_VERSION, reinterpret_cast<void**>(&version)},
        {HANDOFF_AFFINITY_SYMBOL_CREATE, reinterpret_cast<void**>(&create)},
        {HANDOFF_AFFINITY_SYMBOL_PICK, reinterpret_cast<void**>(&pick_)},
        {HANDOFF_AFFINITY_SYMBOL_DESTROY, reinterpret_cast<void**>(&destroy_)},
    };
    for (const auto& [name, where] : symbols)
      if (!(*where = library_->symbol(name))) {
        error = "plugin " + path + " does not export " + name;
        return false;
      }
    if (const auto v = version(); v != HANDOFF_AFFINITY_ABI_VERSION) {
      error = "plugin " + path + " has ABI version " + std::to_string(v) + "; this supervisor speaks version " +
              std::to_string(HANDOFF_AFFINITY_ABI_VERSION);
      return false;
    }
    char reason[256] = {};
    context_ = create(config.plugin_config.data(), config.plugin_config.size(), reason, sizeof reason);
    if (!context_) {
      error = "plugin " + path + " refused its config: " + (reason[0] ? std::string(reason) : "no reason given");
      return false;
    }
    return true;
  }

  Decision pick(const RouteInput& input, std::span<const SlotView> slots) override {
    if (slots.empty()) return Decision::wait();
    handoff_request_view request{};
    headers_.clear();
    if (input.head) {
      request.method = view(input.head->method);
      request.path = view(input.head->path);
      request.query = view(input.head->query);
      for (const auto& h : input.head->headers) headers_.push_back({view(h.name), view(h.value)});
    }
    request.headers = headers_.data();
    request.header_count = headers_.size();
    request.client_address = reinterpret_cast<const std::uint8_t*>(input.client_address.data());
    request.client_address_length = input.client_address.size();
    request.client_address_text = view(input.client_address_text);
    request.client_port = input.client_port;
    states_.resize(slots.size());
    for (std::size_t i = 0; i < slots.size(); ++i) states_[i] = {slots[i].ready ? 1 : 0, slots[i].load};
    const handoff_slot_view slot_view{states_.size(), states_.data()};
    const handoff_pick result = pick_(context_, &request, &slot_view);
    if (result.slot >= 1 && result.slot <= slots.size()) return Decision::to(result.slot - 1);
    // A status outside 400-599 (or a slot out of range) is the plugin's bug: answer 500.
    if (result.slot == 0 && result.status >= 400 && result.status <= 599) return Decision::refuse(result.status);
    return Decision::refuse(500);
  }

 private:
  std::unique_ptr<SharedLibrary> library_;  // unloaded after the destructor ran destroy_
  void* context_ = nullptr;
  handoff_affinity_pick_fn pick_ = nullptr;
  handoff_affinity_destroy_fn destroy_ = nullptr;
  std::vector<handoff_header> headers_;     // reused between picks
  std::vector<handoff_slot_state> states_;
};

}  // namespace

std::unique_ptr<DispatchPolicy> make_plugin_policy(const RuleConfig& config, const LibraryLoader& load_library,
                                                   std::string& error) {
  auto policy = std::make_unique<PluginPolicy>();
  if (!policy->load(config, load_library, error)) return nullptr;
  return policy;
}

}  // namespace handoff
