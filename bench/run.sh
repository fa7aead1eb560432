#!/usr/bin/env bash
# Reproduces BENCHMARKS.md: builds meetkit-bench in release mode and runs every figure
# against the built-in simulators (loopback, no latency, no faults), then times start-up.
# Close other heavy work first; figures are ratios measured in the same run.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
cargo build --release --locked -p meetkit-bench -p meetkit-cli
./target/release/meetkit-bench
echo
echo "start-up (best of 20):"
best() { local b=999999; for _ in $(seq 20); do local s e; s=$(date +%s%N); "$@" >/dev/null 2>&1; e=$(date +%s%N); local t=$(( (e - s) / 1000 )); (( t < b )) && b=$t; done; echo "$b"; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
echo 'let avd = vendor("avd"); avd.call("room.list");' > "$tmp/one.rhai"
printf '| meetkit --version | %s µs |\n' "$(best ./target/release/meetkit --version)"
printf '| meetkit run --sim (one call, simulators started in-process) | %s µs |\n' "$(best ./target/release/meetkit run --sim --out "$tmp/out" "$tmp/one.rhai")"
printf '| python3 -c "import json" (interpreter start-up, for scale) | %s µs |\n' "$(best python3 -c 'import json')"
