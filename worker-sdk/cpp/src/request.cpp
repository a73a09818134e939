#include "worker-sdk/cpp/src/response_writer.h"
#include <handoff/worker.h>

namespace handoff {

std::string_view Request::header(std::string_view name) const {
  for (const auto& h : headers)
    if (iequals(h.name, name)) return h.value;
  return {};
}

}  // namespace handoff
