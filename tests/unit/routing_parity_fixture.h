// tests/fixtures/routing-parity.txt, read once for every unit test that checks it: client
// addresses with the slot (1-based) ip_hash must pick among N workers. The master's rule
// (test_routing_parity.cpp), the C++ SDK (the same file) and the kernel's program
// (test_source_hash_program.cpp) read the same lines.
#pragma once

#include <doctest/doctest.h>

#include <cstddef>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace handoff::test {

struct ParityLine {
  std::string policy;
  std::string address;
  std::size_t workers = 0;
  std::size_t slot = 0;  // 1-based
  std::string text;      // the fixture's line, for messages
};

inline std::vector<ParityLine> routing_parity_fixture() {
  std::ifstream in(std::string(HANDOFF_SOURCE_DIR) + "/tests/fixtures/routing-parity.txt");
  REQUIRE(in);
  std::vector<ParityLine> lines;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream fields(line);
    ParityLine p;
    REQUIRE_MESSAGE(static_cast<bool>(fields >> p.policy >> p.address >> p.workers >> p.slot), line);
    p.text = line;
    lines.push_back(std::move(p));
  }
  return lines;
}

}  // namespace handoff::test
