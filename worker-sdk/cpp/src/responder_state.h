// What a Responder reaches: an HTTP session awaiting that response (sockets), or the
// HTTP.SYS server's request (httpsys_server.cpp); nothing once it is answered or gone.
#pragma once

#include "worker-sdk/cpp/src/http_session.h"
#include <handoff/worker.h>

#include <functional>

namespace handoff {

struct Responder::State {
  HttpSession::Impl* session = nullptr;
  std::function<void(Response)> elsewhere;  // when there is no session
};

}  // namespace handoff
