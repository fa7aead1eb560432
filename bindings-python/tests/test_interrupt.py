"""Ctrl-C interrupts a blocking call (or a script): the interrupt, not an answer, ends it."""

from __future__ import annotations

import signal
import threading
import time
from pathlib import Path
from typing import Callable, ContextManager

import pytest

import meetkit
from conftest import admin, hits, sim_profile


def interrupt_main_when(ready: Callable[[], bool]) -> threading.Thread:
    """Send SIGINT to the main thread once `ready()` holds (polled from another thread)."""
    main = threading.main_thread().ident
    assert main is not None

    def run() -> None:
        while not ready():
            time.sleep(0.01)  # the poll interval of a wait for the request to reach the server
        signal.pthread_kill(main, signal.SIGINT)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


Guard = Callable[[str], ContextManager[None]]

# Hour-long answers, and a client that would wait for them.
PATIENT = {"request_timeout_secs": 7200, "read_timeout_secs": 7200}


def interrupted(sim: meetkit.Simulator, hang_guard: Guard, path: str, what: str, action: Callable[[], object]) -> None:
    """Run `action` while the simulator holds `path`'s answer for an hour; Ctrl-C once the
    request is at the server must end it (a KeyboardInterrupt) before the hang guard does."""
    before = hits(sim, path)
    interrupter = interrupt_main_when(lambda: hits(sim, path) > before)
    with hang_guard(what), pytest.raises(KeyboardInterrupt):
        action()
    interrupter.join()


def held(sim: meetkit.Simulator, hang_guard: Guard, path: str, what: str, action: Callable[[], object]) -> None:
    """`interrupted`, with every answer for `path` held for an hour meanwhile."""
    admin(sim, "POST", "faults", {"latency_ms": 3_600_000, "paths": [path]})
    try:
        interrupted(sim, hang_guard, path, what, action)
    finally:
        admin(sim, "DELETE", "faults")


def test_ctrl_c_during_a_slow_call(sim: meetkit.Simulator, hang_guard: Guard) -> None:
    with meetkit.Client(profile_dict=sim_profile(sim, **PATIENT)) as client:
        client.call("avd", "room.list")  # token first, so the slow request is the call itself
        held(sim, hang_guard, "/sdkapi/v2/room/list", "the interrupted call", lambda: client.call("avd", "room.list"))
        assert "rooms" in client.call("avd", "room.list"), "the client still works"


def test_ctrl_c_during_a_script(
    sim: meetkit.Simulator, client: meetkit.Client, tmp_path: Path, hang_guard: Guard
) -> None:
    script = tmp_path / "slow.rhai"
    # Interrupted once its call is done and it sleeps (an hour, unless interrupted).
    script.write_text('on_exit(|| print("cleaned up"));\nvendor("avd").call("room.list", #{});\nsleep(3600);\n')

    def run() -> object:
        return meetkit.run_script(script, client=client, out=tmp_path)

    interrupted(sim, hang_guard, "/sdkapi/v2/room/list", "the interrupted script", run)


def test_ctrl_c_during_a_meeting_verb(sim: meetkit.Simulator, hang_guard: Guard) -> None:
    with meetkit.Client(profile_dict=sim_profile(sim, **PATIENT)) as client:
        m = client.meeting("avd")
        room = m.create_room("interrupted")
        path = "/sdkapi/v2/room/participate/list"
        held(sim, hang_guard, path, "the interrupted meeting verb", lambda: m.participants(room))
        assert m.create_room("after interrupt").handle == "avd:after-interrupt", "the meeting API still works"


def test_a_cancel_token_stops_a_script_on_another_thread(
    sim: meetkit.Simulator, client: meetkit.Client, tmp_path: Path, hang_guard: Guard
) -> None:
    """A run on a worker thread cannot see Ctrl-C (asyncio.to_thread, a Temporal activity):
    its CancelToken stops it, its on_exit blocks still run, and CancelledError is raised."""
    script = tmp_path / "slow.rhai"
    script.write_text(
        'on_exit(|| vendor("avd").call("room.create", #{ room_id: "cleaned-up", user_id: "ops" }));\n'
        'vendor("avd").call("room.list", #{});\nsleep(3600);\n'
    )
    token = meetkit.CancelToken()
    assert repr(token) == "CancelToken(cancelled=False)" and not token.cancelled
    outcome: list[BaseException] = []
    before = hits(sim, "/sdkapi/v2/room/list")

    def run() -> None:
        try:
            meetkit.run_script(script, client=client, out=tmp_path, journal=False, cancel=token)
        except BaseException as e:  # noqa: BLE001 - the test inspects it
            outcome.append(e)

    worker = threading.Thread(target=run)
    with hang_guard("the cancelled script"):
        worker.start()
        while hits(sim, "/sdkapi/v2/room/list") == before:
            time.sleep(0.01)  # until the script sleeps
        token.cancel()
        worker.join()
    assert token.cancelled
    assert len(outcome) == 1 and isinstance(outcome[0], meetkit.CancelledError), outcome
    # Its on_exit block ran (after the cancel) and reached the server.
    room = client.call("avd", "room.read", {"room_id": "cleaned-up"})  # ApiError 40004 if not
    assert room["data"]["user_id"] == "ops", room
