#!/usr/bin/env bash
# The C library's tests: builds libmeetkit with every feature (full), installs it under
# target/meetkit-c/prefix, and runs the Rust unit tests + header check, the C suite (also under
# valgrind), a leak canary, a C++17 translation unit, the CMake and pkg-config examples and the
# README's example; then builds the default (device) library, installs it into a temporary
# prefix and checks its SONAME, that it has no optional function, and a program built with
# `pkg-config --cflags --libs meetkit` against it (tests/device.c) running against simulators
# served by the full library. Debug builds (install.sh --profile debug): fast to build.
# Ends with `N passed, M failed`; exits non-zero when anything failed.
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$here")
target=${CARGO_TARGET_DIR:-$root/target}
work=$target/meetkit-c
prefix=$work/prefix
passed=0
failed=0
started=$SECONDS

note() { printf '\n== %s\n' "$*"; }
pass() { passed=$((passed + 1)); echo "PASS $1"; }
fail() { failed=$((failed + 1)); echo "FAIL $1"; }
# step NAME COMMAND...: one check; its output is shown only when it fails.
step() {
    local name=$1 log
    shift
    log=$work/logs/$name.log
    if "$@" >"$log" 2>&1; then pass "$name"; else fail "$name"; tail -n 40 "$log"; fi
}
# Counts the PASS/FAIL lines a test program printed into LOG.
count() {
    local log=$1 p f
    p=$(grep -c '^PASS ' "$log")
    f=$(grep -c '^FAIL ' "$log")
    passed=$((passed + p))
    failed=$((failed + f))
    grep -E '^(PASS|FAIL) ' "$log"
}

# --- tools -------------------------------------------------------------------------------
missing=()
command -v valgrind >/dev/null || missing+=(valgrind)
command -v cmake >/dev/null || missing+=(cmake)
command -v pkg-config >/dev/null || missing+=(pkg-config)
command -v g++ >/dev/null || missing+=(g++)
if ((${#missing[@]})); then
    note "installing ${missing[*]}"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null ||
        { echo "cannot install ${missing[*]}"; echo "0 passed, 1 failed"; exit 1; }
fi

rm -rf "$work"
mkdir -p "$work/logs" "$work/bin"

# --- the library -------------------------------------------------------------------------
note "build (every feature) and install into $prefix"
if ! "$here/install.sh" "$prefix" --profile debug --features full --link; then
    echo "0 passed, 1 failed"
    exit 1
fi
pass install
export PKG_CONFIG_PATH=$prefix/lib/pkgconfig

note "Rust unit tests and header freshness"
(cd "$root" && cargo test -p meetkit-c --features full 2>&1) >"$work/logs/cargo-test.log"
rc=$?
grep -E '^test .* \.\.\. ' "$work/logs/cargo-test.log" | sed -E 's/^test (.*) \.\.\. ok$/PASS rust \1/; s/^test (.*) \.\.\. FAILED$/FAIL rust \1/' >"$work/logs/cargo-test.counted"
count "$work/logs/cargo-test.counted"
if ((rc != 0)) && ! grep -q '^FAIL ' "$work/logs/cargo-test.counted"; then
    fail "cargo test -p meetkit-c"
    tail -n 40 "$work/logs/cargo-test.log"
fi

cflags=(-std=c99 -Wall -Wextra -Werror -I"$prefix/include")
libs=(-L"$prefix/lib" -lmeetkit -lpthread -Wl,-rpath,"$prefix/lib")

# --- the C suite -------------------------------------------------------------------------
note "C suite (gcc -std=c99 -Wall -Wextra -Werror)"
step compile-c-suite gcc "${cflags[@]}" "$here/tests/test_meetkit.c" -o "$work/bin/test_meetkit" "${libs[@]}"
"$work/bin/test_meetkit" "$work/scratch" >"$work/logs/c-suite.log" 2>&1
rc=$?
count "$work/logs/c-suite.log"
if ((rc != 0)); then
    grep -v -E '^(PASS|FAIL) ' "$work/logs/c-suite.log" | tail -n 40
    grep -q '^FAIL ' "$work/logs/c-suite.log" || fail "c-suite (exit $rc)"
fi

note "C suite under valgrind"
valgrind_opts=(--leak-check=full --errors-for-leak-kinds=definite --error-exitcode=1
    --suppressions="$here/tests/valgrind.supp" --num-callers=40)
valgrind_suite() {
    rm -rf "$work/scratch-vg"
    # Exits non-zero on any memory error, any definite leak, or a failed test.
    valgrind "${valgrind_opts[@]}" "$work/bin/test_meetkit" "$work/scratch-vg"
}
step valgrind-suite valgrind_suite
grep -E 'ERROR SUMMARY|definitely lost|indirectly lost|possibly lost' "$work/logs/valgrind-suite.log" | sed 's/^==[0-9]*== /  /'

# A leak valgrind must catch: proves the clean run above is not blind.
gcc "${cflags[@]}" "$here/tests/leak_canary.c" -o "$work/bin/leak_canary" "${libs[@]}"
leak_caught() { ! valgrind "${valgrind_opts[@]}" "$work/bin/leak_canary"; }
step valgrind-catches-a-leak leak_caught

# --- C++ ---------------------------------------------------------------------------------
note "C++17 translation unit including meetkit.h twice"
cxx() {
    g++ -std=c++17 -Wall -Wextra -Werror -I"$prefix/include" "$here/tests/header_twice.cpp" \
        -o "$work/bin/header_twice" -L"$prefix/lib" -lmeetkit -Wl,-rpath,"$prefix/lib" &&
        "$work/bin/header_twice"
}
step cxx-header-twice cxx

# --- examples ----------------------------------------------------------------------------
note "examples against the installed library"
cmake_example() {
    local build=$work/cmake-$1
    shift
    cmake -S "$here/examples/cmake" -B "$build" "$@" && cmake --build "$build" && "$build/hello"
}
step cmake-find-package cmake_example find -DCMAKE_PREFIX_PATH="$prefix"
step cmake-pkg-config cmake_example pkgconfig -DMEETKIT_USE_PKG_CONFIG=ON
pkg_config_example() {
    mkdir -p "$work/pkg-config" &&
        make -C "$here/examples/pkg-config" OUT="$work/pkg-config" &&
        "$work/pkg-config/hello" && "$work/pkg-config/hello-static" &&
        ! ldd "$work/pkg-config/hello-static" | grep -q libmeetkit
}
step pkg-config-shared-and-static pkg_config_example

readme_example() {
    awk '/^```c$/ { on = 1; next } /^```$/ { if (on) exit } on' "$here/README.md" >"$work/readme_example.c" &&
        test -s "$work/readme_example.c" &&
        gcc -std=c99 -Wall -Wextra -Werror $(pkg-config --cflags meetkit) "$work/readme_example.c" \
            -o "$work/bin/readme_example" $(pkg-config --libs meetkit) -Wl,-rpath,"$prefix/lib" &&
        "$work/bin/readme_example"
}
step readme-example readme_example

# --- the device library: default features --------------------------------------------------
note "the default (device) library: no simulator, scripts, webhook receiver or journal"
device=$(mktemp -d "$work/device-prefix.XXXXXX")
if "$here/install.sh" "$device" --profile debug --link >"$work/logs/install-default.log" 2>&1; then
    pass install-default
else
    fail install-default
    tail -n 40 "$work/logs/install-default.log"
fi
device_pc=$device/lib/pkgconfig

# The SONAME is versioned, the real file and both links are installed, and the CMake package
# names the same SONAME.
soname_check() {
    local version real soname
    version=$(PKG_CONFIG_PATH=$device_pc pkg-config --modversion meetkit) || return 1
    real=$device/lib/libmeetkit.so.$version
    soname=$(readelf -d "$real" | sed -n 's/.*Library soname: \[\(.*\)\].*/\1/p')
    echo "SONAME $soname"
    # Versioned, by a prefix of the version (0.1 for 0.1.0: the ABI of a 0.x release).
    [[ $soname == libmeetkit.so.?* && $version == "${soname#libmeetkit.so.}"* ]] || return 1
    [[ -L $device/lib/$soname && $(readlink "$device/lib/$soname") == "libmeetkit.so.$version" ]] &&
        [[ -L $device/lib/libmeetkit.so && $(readlink "$device/lib/libmeetkit.so") == "$soname" ]] &&
        grep -q "IMPORTED_SONAME \"$soname\"" "$device/lib/cmake/meetkit/meetkitConfig.cmake"
}
step default-soname soname_check

# The optional functions are in the full library and absent from the default one.
exports() { nm -D --defined-only "$1" | awk '{ print $3 }' | grep '^meetkit_' | sort; }
optional_functions() {
    local full lean f
    full=$(exports "$prefix/lib/libmeetkit.so") && lean=$(exports "$device/lib/libmeetkit.so") || return 1
    for f in meetkit_sim_start meetkit_sim_profile meetkit_sim_free meetkit_run_script meetkit_run_script_with_options \
        meetkit_run_script_cancellable meetkit_cancel_token_new meetkit_cancel_token_cancel meetkit_cancel_token_free; do
        grep -qx "$f" <<<"$full" || { echo "$f missing from the full library"; return 1; }
        ! grep -qx "$f" <<<"$lean" || { echo "$f exported by the default library"; return 1; }
    done
    grep -qx meetkit_call <<<"$lean" && grep -qx meetkit_download <<<"$lean" && grep -qx meetkit_events_subscribe <<<"$lean"
}
step default-has-no-optional-functions optional_functions

# Its header does not declare them either: a program using the simulator does not compile.
sim_program_refused() {
    printf '#include <meetkit.h>\nint main(void) { meetkit_sim *s = 0; return (int)meetkit_sim_start(0, &s, 0); }\n' \
        >"$work/uses_sim.c"
    ! gcc -std=c99 -Wall -Werror -I"$device/include" -c "$work/uses_sim.c" -o "$work/uses_sim.o" &&
        grep -q '^#define MEETKIT_FEATURE_SIM 1$' "$prefix/include/meetkit.h" &&
        ! grep -q '^#define MEETKIT_FEATURE' "$device/include/meetkit.h"
}
step default-header-declares-no-simulator sim_program_refused

# A device program, built with pkg-config alone, against simulators served by the full library.
gcc -std=c99 -Wall -Wextra -Werror -I"$prefix/include" "$here/tests/sim_serve.c" -o "$work/bin/sim_serve" \
    -L"$prefix/lib" -lmeetkit -Wl,-rpath,"$prefix/lib"
device_build() {
    gcc -std=c99 -Wall -Wextra -Werror $(PKG_CONFIG_PATH=$device_pc pkg-config --cflags meetkit) \
        "$here/tests/device.c" -o "$work/bin/device" $(PKG_CONFIG_PATH=$device_pc pkg-config --libs meetkit) \
        -Wl,-rpath,"$device/lib" &&
        readelf -d "$work/bin/device" | grep -q "NEEDED.*\[$(readelf -d "$device/lib/libmeetkit.so" |
            sed -n 's/.*Library soname: \[\(.*\)\].*/\1/p')\]"
}
step device-program-builds-with-pkg-config device_build
device_run() {
    local profile rc
    coproc SIM { "$work/bin/sim_serve"; }
    IFS= read -r profile <&"${SIM[0]}"
    "$work/bin/device" "$profile" "$work/scratch-device"
    rc=$?
    exec {SIM[1]}>&-
    wait "$SIM_PID" || rc=1
    return $rc
}
device_run >"$work/logs/device.log" 2>&1
rc=$?
count "$work/logs/device.log"
if ((rc != 0)); then
    grep -v -E '^(PASS|FAIL) ' "$work/logs/device.log" | tail -n 40
    grep -q '^FAIL ' "$work/logs/device.log" || fail "device (exit $rc)"
fi

echo
echo "bindings-c: $((SECONDS - started)) s"
echo "$passed passed, $failed failed"
((failed == 0))
