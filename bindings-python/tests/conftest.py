"""Shared fixtures: one in-process simulator for the session, a fresh client per test,
the simulator's admin API, and an AVD recording to download."""

from __future__ import annotations

import contextlib
import faulthandler
import json
import os
import sys
import threading
import urllib.request
from pathlib import Path
from typing import Any, Callable, ContextManager, Dict, Iterator, List, Optional

import pytest

import meetkit

REPO = Path(__file__).resolve().parents[2]


def admin(sim: meetkit.Simulator, method: str, path: str, body: Optional[Any] = None) -> Any:
    """Call the AVD simulator's admin API (`/_sim/<path>`)."""
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(f"{sim.avd_base_url}/_sim/{path}", data=data, method=method)
    req.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(req, timeout=10) as resp:
        text = resp.read().decode()
    return json.loads(text) if text else None


def advance(sim: meetkit.Simulator, seconds: float) -> None:
    """Move the simulator's virtual clock (shared by every vendor server) forward."""
    admin(sim, "POST", "clock/advance", {"seconds": seconds})


def hits(sim: meetkit.Simulator, path: str) -> int:
    """How many requests for `path` the AVD simulator has seen."""
    count: int = admin(sim, "GET", "stats")["requests"].get(path, 0)
    return count


@pytest.fixture
def hang_guard(pytestconfig: pytest.Config) -> Callable[[str], ContextManager[None]]:
    """`with hang_guard("what"):` ends the test run, saying "hung: what" with every thread's
    traceback, if the block has not finished after a minute: for a block that only an interrupt
    can end, a guard against a hang (a busy machine never trips it), not a timing claim."""
    capture = pytestconfig.pluginmanager.getplugin("capturemanager")

    @contextlib.contextmanager
    def guard(what: str, seconds: float = 60) -> Iterator[None]:
        done = threading.Event()

        def watch() -> None:
            if done.wait(seconds):
                return
            if capture is not None:
                capture.suspend_global_capture(in_=True)
            sys.stderr.write(f"\nhung: {what} still running after {seconds} s\n")
            faulthandler.dump_traceback(file=sys.stderr, all_threads=True)
            os._exit(1)

        threading.Thread(target=watch, daemon=True).start()
        try:
            yield
        finally:
            done.set()

    return guard


@pytest.fixture(scope="session", autouse=True)
def _journal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """run_script records in the run journal; the tests' runs go to a file of their own."""
    import os

    os.environ["MEETKIT_JOURNAL"] = str(tmp_path_factory.mktemp("journal") / "runs.db")
    yield


@pytest.fixture(scope="session")
def sim() -> Iterator[meetkit.Simulator]:
    with meetkit.Simulator() as s:
        yield s


@pytest.fixture
def client(sim: meetkit.Simulator) -> Iterator[meetkit.Client]:
    with sim.client() as c:
        yield c
    admin(sim, "DELETE", "faults")


def sim_profile(sim: meetkit.Simulator, **transport: Any) -> Dict[str, Any]:
    """The simulator's AVD profile with transport settings (e.g. max_attempts=1)."""
    return {"avd": dict(sim.profile["avd"]), "transport": transport}


def record(sim: meetkit.Simulator, client: meetkit.Client, room: str) -> List[Dict[str, Any]]:
    """Create `room`, call a device in, record two (virtual) seconds; the files
    `mix_record.stop` reports."""
    avd = client.vendor("avd")
    avd.call("room.create", {"room_id": room, "user_id": "ops"})
    call = avd.call("device.call", {"room_id": room, "name": "d", "url": "sip:1001@10.0.0.5"})
    advance(sim, 2)  # past the simulator's 1 s invite delay
    status = avd.call("device.get_invite_status", {"call_id": call["call_id"]})
    assert str(status["invite_status"]) == "1", f"device not connected: {status}"
    rec = avd.call("room.mix_record.start", {"room_id": room, "name": "rec"})
    advance(sim, 2)
    stopped = avd.call("room.mix_record.stop", {"room_id": room, "record_id": rec["record_id"]})
    files: List[Dict[str, Any]] = stopped["data"]
    assert files, stopped
    return files


# temporalio's client threads can crash CPython's finalization (SIGABRT/SIGSEGV, "PyGILState_Release:
# thread state must be current"; temporalio/sdk-python#300): once it was imported, the run ends
# with os._exit and pytest's own exit status, after every report is written.
_EXIT_STATUS: Dict[str, int] = {}


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    _EXIT_STATUS["status"] = int(exitstatus)


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    import os
    import sys

    if "temporalio" in sys.modules and "status" in _EXIT_STATUS:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(_EXIT_STATUS["status"])
