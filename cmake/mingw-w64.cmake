# Cross-compiling for 64-bit Windows with Debian's mingw-w64 (posix threads flavour, for
# std::thread and friends), against the dependencies windows/deps.sh cross-built.
set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR x86_64)
set(CMAKE_C_COMPILER x86_64-w64-mingw32-gcc-posix)
set(CMAKE_CXX_COMPILER x86_64-w64-mingw32-g++-posix)
set(CMAKE_RC_COMPILER x86_64-w64-mingw32-windres)

# Where the cross-built and copied dependencies live (windows/deps.sh); the host's
# /usr/include and /usr/lib must never be searched.
if(NOT HANDOFF_WIN_DEPS)
  set(HANDOFF_WIN_DEPS "${CMAKE_CURRENT_LIST_DIR}/../build-windows/deps/prefix")
endif()
get_filename_component(HANDOFF_WIN_DEPS "${HANDOFF_WIN_DEPS}" ABSOLUTE)
set(HANDOFF_WIN_DEPS "${HANDOFF_WIN_DEPS}" CACHE PATH "Windows dependencies (windows/deps.sh)")
set(CMAKE_FIND_ROOT_PATH /usr/x86_64-w64-mingw32 "${HANDOFF_WIN_DEPS}")
set(CMAKE_PREFIX_PATH "${HANDOFF_WIN_DEPS}")
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
set(ENV{PKG_CONFIG_LIBDIR} "${HANDOFF_WIN_DEPS}/lib/pkgconfig")
set(ENV{PKG_CONFIG_PATH} "")

# One self-contained .exe each: no libstdc++/libgcc/winpthread DLLs to ship or find.
set(CMAKE_EXE_LINKER_FLAGS_INIT "-static -static-libgcc -static-libstdc++")
