#!/usr/bin/env bash
# Installs libmeetkit into PREFIX:
#   PREFIX/include/meetkit.h
#   PREFIX/lib/libmeetkit.so, PREFIX/lib/libmeetkit.a
#   PREFIX/lib/pkgconfig/meetkit.pc
#   PREFIX/lib/cmake/meetkit/meetkitConfig.cmake (+ ConfigVersion): targets meetkit::meetkit
#     (shared) and meetkit::meetkit_static
#
#   bindings-c/install.sh [--link] PREFIX [PROFILE]   # PROFILE: debug (default) or release
#
# --link hard-links the libraries instead of copying them (a throwaway prefix on the same
# file system as target/, as test.sh uses: a debug libmeetkit.a is several hundred MB).
#
# Build first: cargo build -p meetkit-c [--release].
set -euo pipefail

link=0
if [[ ${1:-} == --link ]]; then
    link=1
    shift
fi
if [[ $# -lt 1 || $# -gt 2 ]]; then
    echo "usage: $0 [--link] PREFIX [debug|release]" >&2
    exit 2
fi
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$here")
profile=${2:-debug}
build=${CARGO_TARGET_DIR:-$root/target}/$profile
mkdir -p "$1"
prefix=$(cd "$1" && pwd)
version=$(sed -n 's/^version = "\(.*\)"/\1/p' "$root/Cargo.toml" | head -n 1)
# The system libraries libmeetkit.a needs (rustc --print native-static-libs on Linux).
static_libs="-lgcc_s -lutil -lrt -lpthread -lm -ldl -lc"

for f in libmeetkit.so libmeetkit.a; do
    [[ -f $build/$f ]] || { echo "$build/$f is missing: run cargo build -p meetkit-c first" >&2; exit 1; }
done

install -d "$prefix/include" "$prefix/lib/pkgconfig" "$prefix/lib/cmake/meetkit"
install -m 644 "$here/include/meetkit.h" "$prefix/include/meetkit.h"
if [[ $link == 1 ]]; then
    ln -f "$build/libmeetkit.so" "$prefix/lib/libmeetkit.so"
    ln -f "$build/libmeetkit.a" "$prefix/lib/libmeetkit.a"
else
    install -m 755 "$build/libmeetkit.so" "$prefix/lib/libmeetkit.so"
    install -m 644 "$build/libmeetkit.a" "$prefix/lib/libmeetkit.a"
fi

cat > "$prefix/lib/pkgconfig/meetkit.pc" <<PC
prefix=$prefix
exec_prefix=\${prefix}
libdir=\${exec_prefix}/lib
includedir=\${prefix}/include

Name: meetkit
Description: One client for four video-conferencing vendors' server APIs (C library)
Version: $version
Cflags: -I\${includedir}
Libs: -L\${libdir} -lmeetkit
Libs.private: $static_libs
PC

cat > "$prefix/lib/cmake/meetkit/meetkitConfig.cmake" <<'CMAKE'
# meetkit: imported targets meetkit::meetkit (libmeetkit.so) and meetkit::meetkit_static.
get_filename_component(_meetkit_prefix "${CMAKE_CURRENT_LIST_DIR}/../../.." ABSOLUTE)
if(NOT TARGET meetkit::meetkit)
  add_library(meetkit::meetkit SHARED IMPORTED)
  set_target_properties(meetkit::meetkit PROPERTIES
    IMPORTED_LOCATION "${_meetkit_prefix}/lib/libmeetkit.so"
    IMPORTED_SONAME "libmeetkit.so"
    INTERFACE_INCLUDE_DIRECTORIES "${_meetkit_prefix}/include")
  add_library(meetkit::meetkit_static STATIC IMPORTED)
  set_target_properties(meetkit::meetkit_static PROPERTIES
    IMPORTED_LOCATION "${_meetkit_prefix}/lib/libmeetkit.a"
    INTERFACE_INCLUDE_DIRECTORIES "${_meetkit_prefix}/include"
    INTERFACE_LINK_LIBRARIES "gcc_s;util;rt;pthread;m;dl")
endif()
set(meetkit_INCLUDE_DIRS "${_meetkit_prefix}/include")
unset(_meetkit_prefix)
CMAKE

cat > "$prefix/lib/cmake/meetkit/meetkitConfigVersion.cmake" <<CMAKE
# meetkit $version: compatible with requests for the same major version, not newer.
set(PACKAGE_VERSION "$version")
if(PACKAGE_FIND_VERSION VERSION_GREATER PACKAGE_VERSION OR NOT PACKAGE_FIND_VERSION_MAJOR STREQUAL "${version%%.*}")
  set(PACKAGE_VERSION_COMPATIBLE FALSE)
else()
  set(PACKAGE_VERSION_COMPATIBLE TRUE)
  if(PACKAGE_FIND_VERSION STREQUAL PACKAGE_VERSION)
    set(PACKAGE_VERSION_EXACT TRUE)
  endif()
endif()
CMAKE

echo "installed meetkit $version into $prefix"
