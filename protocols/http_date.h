// An IMF-fixdate (RFC 9110, 5.6.7), "Sun, 06 Nov 1994 08:49:37 GMT": the Date of every
// answer the output cache serves, the master's and the C++ SDK workers'.
#pragma once

#include <chrono>
#include <string>

namespace handoff {

std::string http_date(std::chrono::system_clock::time_point when);

}  // namespace handoff
