"""The stubs are complete and correct, and the typed example runs as written."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO

EXAMPLE = REPO / "bindings-python" / "examples" / "notebook.py"


def run(args: "list[str]", cwd: Path) -> "subprocess.CompletedProcess[str]":
    return subprocess.run([sys.executable, *args], cwd=cwd, capture_output=True, text=True, timeout=300)


def test_mypy_strict_on_the_example(tmp_path: Path) -> None:
    pytest.importorskip("mypy")
    r = run(["-m", "mypy", "--strict", "--cache-dir", str(tmp_path / "cache"), str(EXAMPLE)], tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr


def test_stubtest(tmp_path: Path) -> None:
    pytest.importorskip("mypy")
    # meetkit.temporal is plain Python (no stub to compare; test_temporal.py runs mypy --strict
    # on it), and temporalio's decorators hide `async def` from stubtest.
    allow = tmp_path / "allowlist.txt"
    allow.write_text("meetkit\\.temporal\\..*\n")
    args = ["-m", "mypy.stubtest", "--mypy-config-file", str(tmp_path / "none.ini"), "--allowlist", str(allow), "meetkit"]
    r = run(args, tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr


def test_the_example_runs(tmp_path: Path) -> None:
    r = run([str(EXAMPLE), str(tmp_path)], REPO)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "room_id exists" in r.stdout or "40005" in r.stdout
    assert "summary: room meetkit-demo" in r.stdout
    assert "sim-secret-key" not in r.stdout
