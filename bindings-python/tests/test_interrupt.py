"""Ctrl-C interrupts a blocking call (or a script) within about a second."""

from __future__ import annotations

import signal
import threading
import time
from pathlib import Path

import pytest

import meetkit
from conftest import admin


def interrupt_main_in(seconds: float) -> threading.Timer:
    main = threading.main_thread().ident
    assert main is not None
    timer = threading.Timer(seconds, signal.pthread_kill, (main, signal.SIGINT))
    timer.start()
    return timer


def test_ctrl_c_during_a_slow_call(sim: meetkit.Simulator, client: meetkit.Client) -> None:
    client.call("avd", "room.list")  # token first, so the slow request is the call itself
    admin(sim, "POST", "faults", {"latency_ms": 5000, "paths": ["/sdkapi/v2/room/list"]})
    start = time.monotonic()
    timer = interrupt_main_in(0.3)
    with pytest.raises(KeyboardInterrupt):
        client.call("avd", "room.list")
    elapsed = time.monotonic() - start
    timer.join()
    assert elapsed < 1.5, elapsed
    admin(sim, "DELETE", "faults")
    assert "rooms" in client.call("avd", "room.list"), "the client still works"


def test_ctrl_c_during_a_script(client: meetkit.Client, tmp_path: Path) -> None:
    script = tmp_path / "slow.rhai"
    script.write_text('on_exit(|| print("cleaned up"));\nsleep(30);\n')
    start = time.monotonic()
    timer = interrupt_main_in(0.3)
    with pytest.raises(KeyboardInterrupt):
        meetkit.run_script(script, client=client, out=tmp_path)
    timer.join()
    assert time.monotonic() - start < 1.5


def test_ctrl_c_during_a_meeting_verb(sim: meetkit.Simulator, client: meetkit.Client) -> None:
    m = client.meeting("avd")
    room = m.create_room("interrupted")
    admin(sim, "POST", "faults", {"latency_ms": 5000, "paths": ["/sdkapi/v2/room/participate/list"]})
    start = time.monotonic()
    timer = interrupt_main_in(0.3)
    with pytest.raises(KeyboardInterrupt):
        m.participants(room)
    timer.join()
    assert time.monotonic() - start < 1.5
    admin(sim, "DELETE", "faults")
    assert m.create_room("after interrupt").handle == "avd:after-interrupt", "the meeting API still works"
