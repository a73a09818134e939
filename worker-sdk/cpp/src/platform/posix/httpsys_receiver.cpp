// HTTP.SYS is Windows only; a master never sends welcome.httpsys here (its config check
// rejects `httpsys` listeners).
#include "../httpsys.h"

namespace handoff::platform {

std::unique_ptr<HttpSysReceiver> HttpSysReceiver::start(std::uint64_t, std::size_t,
                                                        std::function<void(HttpSysRequest)>,
                                                        std::function<void(std::string)>, std::string& error) {
  error = "HTTP.SYS needs Windows";
  return nullptr;
}

}  // namespace handoff::platform
