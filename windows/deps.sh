#!/usr/bin/env bash
# Cross-builds the Windows dependencies once, from Debian's own sources and headers:
#   libuv and yaml-cpp: `apt-get source`, built with mingw-w64 through cmake/mingw-w64.cmake;
#   nlohmann-json, doctest, CLI11, xxhash: header-only, copied from the Debian -dev packages
#   (xxhash is used with XXH_INLINE_ALL), with small CMake/pkg-config files that point at
#   the copies, so that the Linux /usr/include never enters a Windows compile.
# Result: $PREFIX (default build-windows/deps/prefix), which the `windows` preset's toolchain
# searches first. A stamp file makes a second run a no-op.
#
#   windows/deps.sh [PREFIX]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
prefix=${1:-$root/build-windows/deps/prefix}
work=$(dirname "$prefix")
stamp=$prefix/.handoff-deps-2
[ -f "$stamp" ] && exit 0

toolchain=$root/cmake/mingw-w64.cmake
mkdir -p "$work/src" "$prefix/include" "$prefix/lib/pkgconfig" "$prefix/lib/cmake"

# Sources come from Debian's archive; apt-get source needs a deb-src entry.
if ! apt-get source --print-uris libuv1 >/dev/null 2>&1; then
  if [ "$(id -u)" != 0 ]; then
    echo "windows/deps.sh: apt-get source needs a deb-src entry; run as root once" >&2
    exit 1
  fi
  "$root/windows/add-deb-src.sh"
fi

fetch() {  # fetch SOURCE-PACKAGE -> prints the unpacked directory
  local pkg=$1
  ( cd "$work/src"
    if ! ls -d "$pkg"-*/ >/dev/null 2>&1; then
      apt-get source -qq "$pkg" >"$work/src/$pkg.log" 2>&1 || { cat "$work/src/$pkg.log" >&2; exit 1; }
    fi
    ls -d "$work/src/$pkg"-*/ | head -1 )
}

cmake_build() {  # cmake_build NAME SOURCE-DIR [cmake args...]
  local name=$1 src=$2; shift 2
  cmake -S "$src" -B "$work/build-$name" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_TOOLCHAIN_FILE="$toolchain" -DCMAKE_INSTALL_PREFIX="$prefix" "$@" >"$work/build-$name.log" 2>&1 \
    || { tail -40 "$work/build-$name.log" >&2; exit 1; }
  cmake --build "$work/build-$name" >>"$work/build-$name.log" 2>&1 || { tail -40 "$work/build-$name.log" >&2; exit 1; }
  cmake --install "$work/build-$name" >>"$work/build-$name.log" 2>&1 || { tail -40 "$work/build-$name.log" >&2; exit 1; }
}

echo "windows/deps.sh: cross-building libuv (Debian source)"
uv_src=$(fetch libuv1)
cmake_build libuv "$uv_src" -DLIBUV_BUILD_TESTS=OFF -DLIBUV_BUILD_BENCH=OFF -DBUILD_TESTING=OFF
# Link libuv statically (no DLLs to carry next to each .exe); a pkg-config file of our own
# names the static archive and the Windows libraries it needs.
uv_version=$(sed -n 's/^Version: *//p' "$prefix/lib/pkgconfig/libuv.pc" 2>/dev/null || echo 1)
uv_static=libuv_a  # libuv's CMake names the static archive so on every platform
[ -f "$prefix/lib/$uv_static.a" ] || { echo "windows/deps.sh: no $uv_static.a after the libuv build" >&2; exit 1; }
cat >"$prefix/lib/pkgconfig/libuv.pc" <<PC
prefix=$prefix
Name: libuv
Description: libuv, static, cross-built for Windows
Version: $uv_version
Cflags: -I\${prefix}/include
Libs: -L\${prefix}/lib -l${uv_static#lib} -lpsapi -luser32 -ladvapi32 -liphlpapi -luserenv -lws2_32 -ldbghelp -lole32 -lshell32
PC
rm -f "$prefix/lib/pkgconfig/libuv-static.pc"

echo "windows/deps.sh: cross-building yaml-cpp (Debian source)"
yaml_src=$(fetch yaml-cpp)
cmake_build yaml-cpp "$yaml_src" -DYAML_CPP_BUILD_TESTS=OFF -DYAML_CPP_BUILD_TOOLS=OFF -DYAML_CPP_BUILD_CONTRIB=OFF \
  -DYAML_BUILD_SHARED_LIBS=OFF -DBUILD_SHARED_LIBS=OFF

echo "windows/deps.sh: header-only libraries from the Debian -dev packages"
cp -r /usr/include/nlohmann /usr/include/doctest /usr/include/CLI "$prefix/include/"
cp /usr/include/xxhash.h /usr/include/xxh3.h "$prefix/include/"
# Boost (Beast's base64, Interprocess): header-only here; a link, as it is large.
ln -sfn /usr/include/boost "$prefix/include/boost"
interface_package() {  # interface_package PACKAGE TARGET [compile definitions]
  mkdir -p "$prefix/lib/cmake/$1"
  cat >"$prefix/lib/cmake/$1/$1Config.cmake" <<CM
# Written by windows/deps.sh: the header-only $1 copied from Debian's -dev package.
if(NOT TARGET $2)
  add_library($2 INTERFACE IMPORTED)
  set_target_properties($2 PROPERTIES INTERFACE_INCLUDE_DIRECTORIES "$prefix/include"
                                       INTERFACE_COMPILE_DEFINITIONS "${3:-}")
endif()
CM
}
interface_package nlohmann_json nlohmann_json::nlohmann_json
interface_package doctest doctest::doctest
interface_package CLI11 CLI11::CLI11
cat >"$prefix/lib/pkgconfig/libxxhash.pc" <<PC
prefix=$prefix
Name: libxxhash
Description: xxHash, header-only (XXH_INLINE_ALL)
Version: 0.8
Cflags: -I\${prefix}/include -DXXH_INLINE_ALL
Libs:
PC
touch "$stamp"
echo "windows/deps.sh: done ($prefix)"
