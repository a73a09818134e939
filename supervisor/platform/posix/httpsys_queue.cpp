// HTTP.SYS is a Windows kernel driver: nothing of it exists here. `supervisor check`
// rejects `httpsys` listeners before anything starts (config_loader.cpp).
#include "supervisor/platform/httpsys.h"

namespace handoff::platform {

bool httpsys_available(std::string& why) {
  why = "httpsys listeners need Windows (HTTP.SYS); on this platform use `address` (a socket listener) with "
        "`policy: {url_segment: {index: 1, direct: true}}` for the same routing";
  return false;
}

std::unique_ptr<HttpSysQueue> HttpSysQueue::create(const std::string&, std::string& error) {
  httpsys_available(error);
  return nullptr;
}

}  // namespace handoff::platform
