#include "supervisor/core/observe/restart_reasons.h"

namespace handoff {
namespace {

std::string field(const std::vector<std::pair<std::string_view, std::string>>& fields, std::string_view key) {
  for (const auto& [k, v] : fields)
    if (k == key) return v;
  return {};
}

// A kill's reason text as a label value.
std::string kill_reason(const std::string& text) {
  if (text.starts_with("hung")) return "hung";
  if (text.starts_with("no ready")) return "start_timeout";
  if (text.starts_with("protocol")) return "protocol";
  // A lost channel is how a crash usually shows first; the exit that follows says crash.
  // Planned kills (drain timeout, stop now) restart nothing.
  return {};
}

}  // namespace

void RestartReasons::on_event(std::string_view name, const std::vector<std::pair<std::string_view, std::string>>& fields) {
  if (name == "recycle") {
    ++counts_[field(fields, "reason")];
  } else if (name == "kill") {
    if (auto reason = kill_reason(field(fields, "reason")); !reason.empty()) pending_ = reason;
  } else if (name == "start_failure") {
    if (pending_.empty()) pending_ = "start_failure";
  } else if (name == "exit") {
    if (pending_.empty() && field(fields, "planned") != "true") pending_ = "crash";
  } else if (name == "ready") {
    pending_.clear();  // a replacement that failed earlier caused no restart
  } else if (name == "backoff") {
    ++counts_[pending_.empty() ? "crash" : pending_];
    pending_.clear();
  }
}

}  // namespace handoff
