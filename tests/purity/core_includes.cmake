# The core's sources include neither libuv nor the edge or platform headers (which
# include libuv): cmake -DCORE_DIR=supervisor/core -P core_includes.cmake fails naming
# each file and line that does. The link check (core_links_alone.cpp) catches calls; this
# catches an include whose declarations are not called yet.
file(GLOB_RECURSE sources "${CORE_DIR}/*.h" "${CORE_DIR}/*.cpp")
set(offenders "")
foreach(source IN LISTS sources)
  file(STRINGS "${source}" lines REGEX "^[ \t]*#[ \t]*include[ \t]*[<\"](uv\\.h|uv/|supervisor/platform/|supervisor/edge/)")
  foreach(line IN LISTS lines)
    string(STRIP "${line}" line)
    list(APPEND offenders "${source}: ${line}")
  endforeach()
endforeach()
if(offenders)
  list(JOIN offenders "\n" text)
  message(FATAL_ERROR "the core includes libuv, platform or edge headers:\n${text}")
endif()
list(LENGTH sources count)
message(STATUS "${count} core files include no libuv, platform or edge header")
