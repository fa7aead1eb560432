#!/usr/bin/env bash
# Builds every fuzz target (cargo-fuzz, libFuzzer) and runs each for a bounded time from its
# checked-in seed corpus (fuzz/corpus/<target>); fails when any target crashes, panics or
# trips an assertion. Works on the stable toolchain: `--sanitizer none` needs no nightly
# flag. Installs cargo-fuzz itself under target/tools when missing. Needs g++ (libFuzzer).
#
#   fuzz/run.sh                   every target, FUZZ_SECONDS (default 6) seconds each
#   fuzz/run.sh config 300        one target for five minutes
#
# New inputs the fuzzer finds go to fuzz/target/corpus/<target> (not checked in); a crash is
# saved as fuzz/artifacts/<target>/crash-<sha1>: reproduce it with
# `cargo fuzz run -s none <target> fuzz/artifacts/<target>/crash-<sha1>` (run from fuzz/).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$here")
cd "$here"

tools=$root/target/tools
if ! [ -x "$tools/bin/cargo-fuzz" ]; then
    echo "installing cargo-fuzz into $tools"
    cargo install cargo-fuzz --locked --root "$tools"
fi
export PATH=$tools/bin:$PATH

# Must be the same for `build` and `run`, or `run` rebuilds. A debug build (--dev): in CI the
# build is most of this step's time, and a debug build takes about half as long as a release
# one, for slower fuzzing (debug assertions on, which also catches overflow). For a long run of
# one target, a release build finds more per minute: `cargo fuzz run -s none <target>`.
flags=(--sanitizer none --dev)
seconds=${2:-${FUZZ_SECONDS:-6}}
if [ $# -ge 1 ]; then targets=("$1"); else mapfile -t targets < <(cargo fuzz list); fi

cargo fuzz build "${flags[@]}"
mkdir -p target/logs
failed=()
for t in "${targets[@]}"; do
    mkdir -p "target/corpus/$t"
    log=target/logs/$t.log
    # -timeout: one input may take at most 20 s (c_json makes refused HTTP calls).
    if cargo fuzz run "${flags[@]}" "$t" "target/corpus/$t" "corpus/$t" -- \
        -max_total_time="$seconds" -timeout=20 -rss_limit_mb=4096 -print_final_stats=1 >"$log" 2>&1; then
        runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
        echo "fuzz $t: ${seconds}s, ${runs:-?} inputs, no crash"
    else
        failed+=("$t")
        echo "fuzz $t: FAILED" >&2
        tail -n 60 "$log" >&2
    fi
done
if [ ${#failed[@]} -gt 0 ]; then
    echo "fuzzing found crashes in: ${failed[*]} (inputs under fuzz/artifacts/)" >&2
    exit 1
fi
echo "fuzzing: ${#targets[@]} targets, no crashes"
