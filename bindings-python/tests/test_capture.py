"""``capture=`` writes every exchange as a redacted HAR 1.2 file; vmr sessions meetkit opened
are ended on every exit path: ``close()``, ``with``, garbage collection, interpreter exit."""

from __future__ import annotations

import gc
import json
import subprocess
import sys
import textwrap
import urllib.request
from pathlib import Path
from typing import Any, Dict, List

import pytest

import meetkit

SECRET_FIELDS = [
    ("avd", "secret_key"),
    ("kedacom", "consumer_secret"),
    ("kedacom", "password"),
    ("vmr", "auth"),
    ("vmr", "password"),
    ("netease", "app_secret"),
]


def secrets(sim: meetkit.Simulator) -> List[str]:
    profile = sim.profile
    return [str(profile[vendor][field]) for vendor, field in SECRET_FIELDS]


def vmr_sessions(sim: meetkit.Simulator) -> List[Dict[str, Any]]:
    """The open vmr sessions and meetkit's participants, from the mcuHost's state dump."""
    with urllib.request.urlopen(f"{sim.vmr_mcu_base_url}/_sim/state", timeout=10) as resp:
        state = json.loads(resp.read().decode())
    name = sim.profile["vmr"]["display_name"]
    mine = [p for room in state["rooms"] for p in room["participants"] if p["display_name"] == name]
    return list(state["sessions"]) + mine


def test_capture_records_every_exchange_without_secrets(tmp_path: Path) -> None:
    har = tmp_path / "traffic.har"
    with meetkit.Simulator() as sim:
        with sim.client(capture=har) as client:
            assert client.capture == har
            client.call("avd", "room.create", {"room_id": "cap", "user_id": "ops"})
            client.call("kedacom", "virtual_meeting_rooms.list")
            client.call("vmr", "conference.status")
            client.call("netease", "account.create", {})
            with pytest.raises(meetkit.ApiError):
                client.call("avd", "room.read", {"room_id": "no-such-room"})
        text = har.read_text()
        for secret in secrets(sim):
            assert secret not in text, secret
    log = json.loads(text)["log"]
    assert log["version"] == "1.2" and log["creator"]["name"] == "meetkit"
    comments = [e.get("comment", "") for e in log["entries"]]
    for expected in ("avd app.get_token", "avd room.create", "kedacom system.token", "vmr session.new", "netease account.create"):
        assert any(c.startswith(expected) for c in comments), (expected, comments)
    # close() at the end of the block ended the vmr session: that request is in the file too.
    assert any(c.startswith("vmr session.end") for c in comments), comments
    failed = [e for e in log["entries"] if e.get("comment", "").startswith("avd room.read")]
    assert failed and '"ret"' in failed[0]["response"]["content"]["text"]
    for entry in log["entries"]:
        assert set(entry) >= {"startedDateTime", "time", "request", "response", "cache", "timings"}
        token = [q for q in entry["request"]["queryString"] if q["name"] == "token"]
        assert all(q["value"] == "<redacted>" for q in token)


def test_capture_accepts_a_string_path_and_an_unwritable_path_raises(tmp_path: Path) -> None:
    with meetkit.Simulator() as sim:
        path = str(tmp_path / "s.har")
        with meetkit.Client(profile_dict=sim.profile, capture=path) as client:
            client.call("avd", "room.create", {"room_id": "s", "user_id": "ops"})
        assert len(json.loads(Path(path).read_text())["log"]["entries"]) == 2
        with pytest.raises(meetkit.IoError, match="no-such-dir"):
            meetkit.Client(profile_dict=sim.profile, capture=str(tmp_path / "no-such-dir" / "x.har"))
        assert meetkit.Client(profile_dict=sim.profile).capture is None


def test_with_block_ends_the_vmr_session() -> None:
    with meetkit.Simulator() as sim:
        with meetkit.Client(profile_dict=sim.profile) as client:
            client.call("vmr", "conference.status")
            assert vmr_sessions(sim), "the call opened no session"
        assert vmr_sessions(sim) == []


def test_close_ends_the_vmr_session_and_the_client_stays_usable() -> None:
    with meetkit.Simulator() as sim:
        client = sim.client()
        client.call("vmr", "conference.status")
        client.close()
        assert vmr_sessions(sim) == []
        client.call("vmr", "conference.status")
        assert vmr_sessions(sim)
        client.close()
        assert vmr_sessions(sim) == []


def test_garbage_collection_ends_the_vmr_session() -> None:
    with meetkit.Simulator() as sim:
        client = sim.client()
        client.call("vmr", "conference.status")
        assert vmr_sessions(sim)
        del client
        gc.collect()
        assert vmr_sessions(sim) == []


CHILD = textwrap.dedent(
    """
    import json, sys
    import meetkit

    client = meetkit.Client(profile_dict=json.loads(sys.stdin.readline()))
    client.call("vmr", "conference.status")
    print("open", flush=True)
    sys.stdin.readline()  # the parent has seen the session; now exit without close()
    if sys.argv[1] == "raise":
        raise RuntimeError("the script dies")
    if sys.argv[1] == "exit":
        sys.exit(3)
    """
)


@pytest.mark.parametrize("how, code", [("return", 0), ("raise", 1), ("exit", 3)])
def test_interpreter_exit_ends_the_vmr_session(how: str, code: int) -> None:
    # The simulator runs in this process, outside the child that opens the session.
    with meetkit.Simulator() as sim:
        child = subprocess.Popen(
            [sys.executable, "-c", CHILD, how],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            assert child.stdin is not None and child.stdout is not None
            child.stdin.write(json.dumps(dict(sim.profile)) + "\n")
            child.stdin.flush()
            assert child.stdout.readline().strip() == "open"
            assert vmr_sessions(sim), "the child opened no session"
            child.stdin.write("\n")
            child.stdin.flush()
            _, err = child.communicate(timeout=60)
        finally:
            if child.poll() is None:
                child.kill()
        assert child.returncode == code, err
        assert vmr_sessions(sim) == []
