// The smallest worker of an installed SDK: says which one it is.
#include <handoff/worker.h>

int main() {
  handoff::Worker worker([](const handoff::Request&) {
    handoff::Response response;
    response.body = "installed worker\n";
    return response;
  });
  return worker.run();
}
