#!/usr/bin/env bash
# Reproduces the table of BENCHMARKS.md on a machine with the Rust toolchain, Python 3 and gcc:
#
#   bench/run.sh            full run: release builds, simulator pinned to CPU 1 and the
#                           measuring processes to CPU 0 (taskset), ~10 minutes
#   bench/run.sh --smoke    every figure with tiny counts, debug build, no pinning; checks the
#                           harness works (CI runs this); the figures mean nothing
#
# Extra arguments go to meetkit-bench (see `meetkit-bench --help`), e.g. --calls 20000.
# Installs what it needs itself: hyperfine and curl with apt-get when missing, and a venv
# under target/bench-venv with maturin, requests, httpx and the meetkit wheel built here.
# The table is printed and written to target/bench-results.md.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

smoke=0
if [ "${1:-}" = --smoke ]; then smoke=1; shift; fi
if ((smoke)); then profile=dev; bin=target/debug; else profile=release; bin=target/release; fi
note() { printf '==> %s\n' "$*" >&2; }

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(free -g | awk '/Mem:/ {print $2}') GiB"

missing=()
command -v hyperfine >/dev/null || missing+=(hyperfine)
command -v curl >/dev/null || missing+=(curl)
if ((${#missing[@]})); then
    note "installing ${missing[*]} (apt-get)"
    sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
    $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi

note "cargo build --profile $profile (meetkit-bench, meetkit, libmeetkit)"
cargo build --quiet --locked --profile "$profile" -p meetkit-bench -p meetkit-cli -p meetkit-c

# libmeetkit's SONAME is versioned (libmeetkit.so.0.1); cargo writes only libmeetkit.so, so the
# loader needs the SONAME link beside it (what bindings-c/install.sh installs).
soname=$(readelf -d "$bin/libmeetkit.so" | sed -n 's/.*Library soname: \[\(.*\)\].*/\1/p')
if [ -n "$soname" ] && [ "$soname" != libmeetkit.so ]; then ln -sf libmeetkit.so "$bin/$soname"; fi

note "the C benchmark (bench/c/call_rate.c)"
cc -O2 -std=c99 -Wall -Wextra -Werror -I bindings-c/include bench/c/call_rate.c \
    -L "$bin" -lmeetkit -Wl,-rpath,"$root/$bin" -o "$bin/call_rate"

note "Python venv with meetkit, requests and httpx (target/bench-venv)"
venv=target/bench-venv
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check "maturin>=1.9,<2" requests httpx
rm -rf target/bench-wheels
(cd bindings-python && "$root/$venv/bin/maturin" build --quiet --profile "$profile" \
    --interpreter "$root/$venv/bin/python" --out "$root/target/bench-wheels")
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --force-reinstall --no-deps target/bench-wheels/meetkit-*.whl

pin=()
args=()
if ((smoke)); then
    args+=(--smoke)
elif [ "$(nproc)" -ge 2 ] && command -v taskset >/dev/null; then
    pin=(taskset -c 0)
    args+=(--sim-cpu 1)
fi
# Figure 5 holds 10,000 workflows' connections (and their downloads' files) open at once in
# the fan-out process and as many in the simulator: lift the soft limit on open files to the
# hard one (20,000 on the machine of BENCHMARKS.md; the usual soft default of 1,024 is too few).
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
wheel=$(ls target/bench-wheels/meetkit-*.whl)
note "meetkit-bench ${args[*]} $*"
"${pin[@]}" "$bin/meetkit-bench" "${args[@]}" \
    --python "$venv/bin/python" --c-bench "$bin/call_rate" --hyperfine "$(command -v hyperfine)" \
    --meetkit "$bin/meetkit" --wheel "$wheel" --out target/bench-results.md "$@"
