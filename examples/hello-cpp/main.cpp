// The smallest C++ worker: "Hello, world!" for every request, tagged with who answered.
// Supervised by handoff, or standalone with PORT=8080 ./hello-cpp.
#include <handoff/worker.h>

#include <string>

int main() {
  handoff::Worker* worker = nullptr;  // the handler runs only inside worker->run()

  handoff::Worker w([&](const handoff::Request& request) {
    const auto& info = worker->info();
    const std::string pid = std::to_string(info.pid);
    handoff::Response response;
    response.headers.push_back({"Content-Type", "text/plain"});
    response.headers.push_back(
        {"X-Handoff-Worker",
         (info.supervised ? info.app : std::string("standalone")) + "/" + std::to_string(info.slot) + "/" + pid});
    // /pid lets integration tests learn which process holds a connection.
    response.body = request.target == "/pid" ? pid : "Hello, world!";
    return response;
  });
  worker = &w;
  return w.run();
}
