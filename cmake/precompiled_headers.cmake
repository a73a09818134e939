# Precompiled headers (target_precompile_headers): the standard library headers most of
# our translation units include, parsed once per target instead of once per file (CI
# builds the default, asan and windows presets from clean on 2 cores). Only headers
# that come with the compiler: never our own (a change to one would rebuild the whole
# target) and never libuv or platform headers (the pure core uses this list too).
#
# A PCH is compiled with its target's flags and GCC takes it only where they match
# (-fPIC, -O, -g, sanitizers, -D that its headers test; CMake adds -Winvalid-pch, which
# says when it does not), so the targets with the core's flags reuse its PCH
# (REUSE_FROM) instead of each compiling one. -DCMAKE_DISABLE_PRECOMPILE_HEADERS=ON
# builds without any (e.g. to find an #include a PCH hides). ccache caches a compile
# that uses a PCH only with CCACHE_SLOPPINESS=pch_defines,time_macros (plus
# include_file_mtime,include_file_ctime); without it, it compiles those uncached.

# Headers that do not include <bits/char_traits.h>: safe in every build.
set(HANDOFF_PCH_STD
  <algorithm>
  <array>
  <cstddef>
  <cstdint>
  <cstdio>
  <cstring>
  <deque>
  <functional>
  <map>
  <optional>
  <set>
  <span>
  <unordered_map>
  <utility>
  <variant>
  <vector>
)
# The string headers (all include <bits/char_traits.h>), most of what a PCH saves, only
# where they cannot bring warnings: GCC 12 (Debian 12's g++ and mingw-w64) does not keep
# `#pragma GCC diagnostic` in a PCH, and libstdc++'s char_traits.h silences GCC's false
# -Warray-bounds / -Wstringop-overflow / -Wstringop-overread on inlined std::string code
# with one. In an optimized GCC build (inlining) a PCH with them reports those in our
# files; unoptimized (the asan preset, Debug) nothing is inlined and they stay quiet.
if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "GNU" OR CMAKE_BUILD_TYPE STREQUAL "Debug")
  list(APPEND HANDOFF_PCH_STD <chrono> <memory> <sstream> <string> <string_view>)
endif()
