// merge_app_metrics on arbitrary worker answers: no crash, no read outside the input
// (ASan), and what the master relies on: every line it writes is a comment or a sample
// carrying the `app` label, and no worker family lands in the master's handoff_ namespace.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "supervisor/core/observe/app_metrics.h"

namespace {

void require(bool ok) {
  if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace handoff;
  if (size == 0) return 0;
  // The first byte: sum mode and where the input splits into two workers' answers.
  const bool sum = (data[0] & 1) != 0;
  const std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  const std::size_t cut = rest.empty() ? 0 : (data[0] >> 1) % (rest.size() + 1);
  const auto merged = merge_app_metrics({{"web", 1, true, "", std::string(rest.substr(0, cut)), sum},
                                         {"web", 2, true, "", std::string(rest.substr(cut)), sum},
                                         {"web", 3, false, "timeout", "", sum}});
  std::string_view text = merged.text;
  while (!text.empty()) {
    const auto end = text.find('\n');
    require(end != std::string_view::npos);  // every line ends
    const auto line = text.substr(0, end);
    text.remove_prefix(end + 1);
    if (line.starts_with("# HELP ") || line.starts_with("# TYPE ")) {
      const auto name = line.substr(7, line.find(' ', 7) - 7);
      require(!name.starts_with("handoff_") || name == "handoff_app_metrics_up");
      continue;
    }
    require(line.find("{app=\"web\"") != std::string_view::npos);
    require(!line.starts_with("handoff_") || line.starts_with("handoff_app_metrics_up{"));
  }
  return 0;
}
