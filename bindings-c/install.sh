#!/usr/bin/env bash
# Builds libmeetkit and installs it into PREFIX:
#   PREFIX/include/meetkit.h             (declaring what this build has: MEETKIT_FEATURE_* defined)
#   PREFIX/lib/libmeetkit.so.X.Y.Z       with the SONAME link libmeetkit.so.0.Y (X from 1.0 on)
#                                        and the link libmeetkit.so
#   PREFIX/lib/libmeetkit.a              (without debug info in the dist profile)
#   PREFIX/lib/pkgconfig/meetkit.pc
#   PREFIX/lib/cmake/meetkit/meetkitConfig.cmake (+ ConfigVersion): targets meetkit::meetkit
#     (shared) and meetkit::meetkit_static
#
#   bindings-c/install.sh PREFIX [--features LIST] [--profile NAME] [--link]
#
# --features  the library's optional parts, comma-separated: sim (meetkit_sim_*), script
#             (meetkit_run_script*), webhook (NetEase events), journal (the "journal" client
#             option), or full (all four). Default: none, the device library (calls, the
#             meeting API, events, downloads).
# --profile   dist (default: release mode, optimised for size, LTO, symbols stripped),
#             release, or debug (fast to build: what bindings-c/test.sh uses).
# --link      hard-links the libraries instead of copying them (a throwaway prefix on the
#             same file system as target/, as test.sh uses: a debug libmeetkit.a is several
#             hundred MB).
#
# Needs the Rust toolchain; cargo runs as the calling user, so PREFIX must be writable by it
# (~/.local, or a directory of a package build).
set -euo pipefail

usage() {
    echo "usage: $0 PREFIX [--features sim,script,webhook,journal|full] [--profile dist|release|debug] [--link]" >&2
    exit 2
}

prefix_arg=
features=
profile=dist
link=0
while (($#)); do
    case $1 in
    --features) (($# >= 2)) || usage; features=$2; shift 2 ;;
    --features=*) features=${1#--features=}; shift ;;
    --profile) (($# >= 2)) || usage; profile=$2; shift 2 ;;
    --profile=*) profile=${1#--profile=}; shift ;;
    --link) link=1; shift ;;
    -h | --help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    -*) echo "unknown option $1" >&2; usage ;;
    *) [[ -z $prefix_arg ]] || usage; prefix_arg=$1; shift ;;
    esac
done
[[ -n $prefix_arg ]] || usage

# The features as a list, `full` expanded; each one checked (cargo would also refuse an
# unknown one, with a less direct message).
known=(sim script webhook journal)
selected=()
IFS=', ' read -r -a requested <<<"$features"
for f in "${requested[@]}"; do
    case $f in
    full) selected+=("${known[@]}") ;;
    sim | script | webhook | journal) selected+=("$f") ;;
    *) echo "unknown feature \`$f\`: expected any of ${known[*]}, or full" >&2; exit 2 ;;
    esac
done
# Unique, in the order of `known`.
enabled=()
for k in "${known[@]}"; do
    for f in "${selected[@]}"; do [[ $f == "$k" ]] && { enabled+=("$k"); break; }; done
done

case $profile in
dist | release) cargo_profile=$profile; out=$profile ;;
debug | dev) cargo_profile=dev; out=debug ;;
*) echo "unknown profile \`$profile\`: expected dist, release or debug" >&2; exit 2 ;;
esac

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$here")
build=${CARGO_TARGET_DIR:-$root/target}/$out

feature_list=$(IFS=,; echo "${enabled[*]}")
echo "building libmeetkit (profile $profile, features: ${feature_list:-none})"
(cd "$root" && cargo build --locked -p meetkit-c --profile "$cargo_profile" ${feature_list:+--features "$feature_list"})

version=$(cd "$root" && cargo pkgid -p meetkit-c | sed 's/.*[#@]//')
IFS=. read -r major minor patch <<<"$version"
# The SONAME's version, as build.rs sets it (cargo-c's rule: Cargo's compatibility class).
if [[ $major == 0 && $minor == 0 ]]; then
    sover=0.0.$patch
elif [[ $major == 0 ]]; then
    sover=0.$minor
else
    sover=$major
fi
soname=libmeetkit.so.$sover
if command -v readelf >/dev/null; then
    built=$(readelf -d "$build/libmeetkit.so" | sed -n 's/.*Library soname: \[\(.*\)\].*/\1/p')
    [[ $built == "$soname" ]] || {
        echo "$build/libmeetkit.so has SONAME '${built:-none}', expected $soname (bindings-c/build.rs and install.sh disagree)" >&2
        exit 1
    }
fi

mkdir -p "$prefix_arg"
prefix=$(cd "$prefix_arg" && pwd)
install -d "$prefix/include" "$prefix/lib/pkgconfig" "$prefix/lib/cmake/meetkit"

# The header, declaring this build's features: a `#define MEETKIT_FEATURE_<NAME> 1` for each,
# after the comment block that lists them.
defines=
for f in "${enabled[@]}"; do
    defines+="#define MEETKIT_FEATURE_${f^^} 1"$'\n'
done
header=$prefix/include/meetkit.h
DEFINES=$defines awk '
    { print }
    /An installed header defines those its library has, here\./ { marker = 1; next }
    marker && /^ \*\/$/ { printf "%s", ENVIRON["DEFINES"]; marker = 0; done = 1 }
    END { if (!done) exit 1 }
' "$here/include/meetkit.h" >"$header.tmp" || { echo "include/meetkit.h has no feature block" >&2; exit 1; }
mv "$header.tmp" "$header"
chmod 644 "$header"

# The libraries: the real file, its SONAME link (what programs load) and the link for -lmeetkit.
real=libmeetkit.so.$version
rm -f "$prefix/lib/libmeetkit.so" "$prefix/lib/$soname" "$prefix/lib/$real" "$prefix/lib/libmeetkit.a"
if [[ $link == 1 ]]; then
    ln "$build/libmeetkit.so" "$prefix/lib/$real"
    ln "$build/libmeetkit.a" "$prefix/lib/libmeetkit.a"
else
    install -m 755 "$build/libmeetkit.so" "$prefix/lib/$real"
    install -m 644 "$build/libmeetkit.a" "$prefix/lib/libmeetkit.a"
fi
# The dist profile strips the shared library's symbols; the static one keeps them (a program
# links against them) but its debug info (the Rust standard library's) goes.
if [[ $profile == dist && $link == 0 ]] && command -v strip >/dev/null; then
    strip --strip-debug "$prefix/lib/libmeetkit.a"
fi
[[ $soname == "$real" ]] || ln -s "$real" "$prefix/lib/$soname"
ln -s "$soname" "$prefix/lib/libmeetkit.so"

# The system libraries libmeetkit.a needs (rustc --print native-static-libs on Linux).
static_libs="-lgcc_s -lutil -lrt -lpthread -lm -ldl -lc"

cat >"$prefix/lib/pkgconfig/meetkit.pc" <<PC
prefix=$prefix
exec_prefix=\${prefix}
libdir=\${exec_prefix}/lib
includedir=\${prefix}/include
features=${feature_list}

Name: meetkit
Description: One client for four video-conferencing vendors' server APIs (C library)
Version: $version
Cflags: -I\${includedir}
Libs: -L\${libdir} -lmeetkit
Libs.private: $static_libs
PC

cat >"$prefix/lib/cmake/meetkit/meetkitConfig.cmake" <<CMAKE
# meetkit $version: imported targets meetkit::meetkit ($real) and meetkit::meetkit_static.
# meetkit_FEATURES lists the optional parts this build has (${feature_list:-none}).
get_filename_component(_meetkit_prefix "\${CMAKE_CURRENT_LIST_DIR}/../../.." ABSOLUTE)
if(NOT TARGET meetkit::meetkit)
  add_library(meetkit::meetkit SHARED IMPORTED)
  set_target_properties(meetkit::meetkit PROPERTIES
    IMPORTED_LOCATION "\${_meetkit_prefix}/lib/$real"
    IMPORTED_SONAME "$soname"
    INTERFACE_INCLUDE_DIRECTORIES "\${_meetkit_prefix}/include")
  add_library(meetkit::meetkit_static STATIC IMPORTED)
  set_target_properties(meetkit::meetkit_static PROPERTIES
    IMPORTED_LOCATION "\${_meetkit_prefix}/lib/libmeetkit.a"
    INTERFACE_INCLUDE_DIRECTORIES "\${_meetkit_prefix}/include"
    INTERFACE_LINK_LIBRARIES "gcc_s;util;rt;pthread;m;dl")
endif()
set(meetkit_INCLUDE_DIRS "\${_meetkit_prefix}/include")
set(meetkit_FEATURES "${feature_list//,/;}")
unset(_meetkit_prefix)
CMAKE

cat >"$prefix/lib/cmake/meetkit/meetkitConfigVersion.cmake" <<CMAKE
# meetkit $version: compatible with requests of the same ABI ($soname: the same major
# version, and before 1.0 the same minor one), not newer.
set(PACKAGE_VERSION "$version")
if(PACKAGE_FIND_VERSION VERSION_GREATER PACKAGE_VERSION OR NOT PACKAGE_FIND_VERSION_MAJOR STREQUAL "$major")
  set(PACKAGE_VERSION_COMPATIBLE FALSE)
elseif("$major" STREQUAL "0" AND NOT PACKAGE_FIND_VERSION_MINOR STREQUAL "$minor")
  set(PACKAGE_VERSION_COMPATIBLE FALSE)
else()
  set(PACKAGE_VERSION_COMPATIBLE TRUE)
  if(PACKAGE_FIND_VERSION STREQUAL PACKAGE_VERSION)
    set(PACKAGE_VERSION_EXACT TRUE)
  endif()
endif()
CMAKE

size=$(stat -c %s "$prefix/lib/$real")
echo "installed meetkit $version (features: ${feature_list:-none}; $soname, $((size / 1024)) KiB) into $prefix"
