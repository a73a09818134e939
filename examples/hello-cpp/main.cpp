// The smallest C++ worker: "Hello, world!" for every request, tagged with who answered.
// Supervised by handoff, or standalone with PORT=8080 ./hello-cpp.
//   GET /pid       -> 200 the worker's pid (tests learn which process holds a connection)
//   GET /slow?ms=N -> 200 "slow N ms", answered after N ms (0..60000) without blocking the
//                     loop; tests use it to have a request in flight during a drain
//   GET /block?ms=N -> prints "blocking" on stdout, then holds the loop for N ms (a handler
//                     that computes, or waits on something synchronous), then 200; tests
//                     use it for a worker that does not run for a while
//   POST /echo     -> 200 with the request's body
//   GET /ip        -> 200 "<address> <port>": the client as the worker sees it (the PROXY
//                     protocol source on a listener that takes one)
//   GET /cached    -> 200 the hello body with `Cache-Control: public, max-age=60`: an app
//                     with `cache:` in cluster.yaml keeps it in the master's output cache
// The last path segment names the action, so /3/room/pid works under URL routing too.
// Its own metrics (hello_requests_total) reach the supervisor's /metrics through
// WorkerOptions::metrics.
#include <handoff/worker.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <thread>
#include <utility>

namespace {

constexpr int kSlowMaxMs = 60'000;

// N from "?ms=N" (the first `ms` parameter), clamped to 0..kSlowMaxMs; 0 if absent or junk.
int slow_ms(std::string_view target) {
  const auto query = target.find('?');
  if (query == std::string_view::npos) return 0;
  std::string_view rest = target.substr(query + 1);
  while (!rest.empty()) {
    const auto amp = rest.find('&');
    const std::string_view param = rest.substr(0, amp);
    if (param.starts_with("ms=")) {
      int ms = 0;
      const auto digits = param.substr(3);
      std::from_chars(digits.data(), digits.data() + digits.size(), ms);
      return std::clamp(ms, 0, kSlowMaxMs);
    }
    if (amp == std::string_view::npos) break;
    rest.remove_prefix(amp + 1);
  }
  return 0;
}

}  // namespace

int main() {
  handoff::Worker* worker = nullptr;  // the handler runs only inside worker->run()
  std::uint64_t requests = 0;         // the loop's thread alone counts and reads it

  handoff::WorkerOptions options;
  options.metrics = [&requests] {
    return "# HELP hello_requests_total Requests this worker answered.\n"
           "# TYPE hello_requests_total counter\n"
           "hello_requests_total " + std::to_string(requests) + "\n";
  };

  auto reply = [&](std::string body) {
    const auto& info = worker->info();
    handoff::Response response;
    response.headers.push_back({"Content-Type", "text/plain"});
    response.headers.push_back({"X-Handoff-Worker", (info.supervised ? info.app : std::string("standalone")) + "/" +
                                                        std::to_string(info.slot) + "/" + std::to_string(info.pid)});
    response.body = std::move(body);
    return response;
  };

  handoff::Worker w([&](const handoff::Request& request, handoff::Responder responder) {
    ++requests;
    const std::string_view target = request.target;
    const std::string_view path = target.substr(0, target.find('?'));
    // The last segment names the action, so /3/room/pid works under URL routing too.
    const std::string_view action = path.substr(path.rfind('/') + 1);
    if (action == "echo") {
      responder.send(reply(request.body));
      return;
    }
    if (action == "slow") {
      const int ms = slow_ms(target);
      worker->after(static_cast<std::uint64_t>(ms),
                    [&reply, responder, ms] { responder.send(reply("slow " + std::to_string(ms) + " ms")); });
      return;
    }
    if (action == "block") {
      std::puts("blocking");
      std::fflush(stdout);
      std::this_thread::sleep_for(std::chrono::milliseconds(slow_ms(target)));
      responder.send(reply("unblocked"));
      return;
    }
    if (action == "ip") {
      responder.send(reply(request.remote_address + " " + std::to_string(request.remote_port)));
      return;
    }
    if (action == "cached") {
      auto response = reply("Hello, world!");
      response.headers.push_back({"Cache-Control", "public, max-age=60"});
      responder.send(std::move(response));
      return;
    }
    responder.send(reply(action == "pid" ? std::to_string(worker->info().pid) : "Hello, world!"));
  }, options);
  worker = &w;
  return w.run();
}
