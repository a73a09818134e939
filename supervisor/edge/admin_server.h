// The admin HTTP endpoint: a ShortServer on a TCP address whose sessions parse one
// request head with llhttp and answer it through route_admin. libuv edge.
#pragma once

#include <memory>
#include <string>

#include "supervisor/edge/short_server.h"
#include "supervisor/core/observe/admin_routes.h"

namespace handoff {

class AdminServer {
 public:
  AdminServer(uv_loop_t* loop, AdminSource& source);
  int listen(const std::string& host, int port) { return server_.listen_tcp(host, port); }
  void close() { server_.close(); }

 private:
  AdminSource& source_;
  ShortServer server_;
};

}  // namespace handoff
