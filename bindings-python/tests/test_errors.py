"""Every exception class, each raised by a real situation against the simulator."""

from __future__ import annotations

import builtins
import socket
from pathlib import Path

import pytest

import meetkit
from conftest import admin, record, sim_profile


def test_hierarchy() -> None:
    for cls in (
        meetkit.ConfigError,
        meetkit.Unsupported,
        meetkit.InvalidParams,
        meetkit.UnknownEndpoint,
        meetkit.TransportError,
        meetkit.TimeoutError,
        meetkit.ApiError,
        meetkit.HttpError,
        meetkit.AuthError,
        meetkit.DecodeError,
        meetkit.ScriptError,
        meetkit.CancelledError,
        meetkit.IntegrityError,
        meetkit.IoError,
    ):
        assert issubclass(cls, meetkit.MeetkitError)
    assert issubclass(meetkit.TimeoutError, builtins.TimeoutError)
    assert issubclass(meetkit.IoError, OSError)
    assert issubclass(meetkit.Unsupported, meetkit.ConfigError)


def test_api_error(client: meetkit.Client) -> None:
    client.call("avd", "room.create", {"room_id": "dup", "user_id": "ops"})
    with pytest.raises(meetkit.ApiError) as info:
        client.call("avd", "room.create", {"room_id": "dup", "user_id": "ops"})
    e = info.value
    assert (e.vendor, e.endpoint, e.code, e.kind, e.retryable) == ("avd", "room.create", "40005", "api", False)
    assert e.meaning and e.message
    assert str(e).startswith("avd room.create: error 40005: ")


def test_invalid_params_and_unknown_endpoint(client: meetkit.Client) -> None:
    with pytest.raises(meetkit.InvalidParams) as info:
        client.call("avd", "room.create", {"room_id": "x"})
    assert (info.value.vendor, info.value.endpoint, info.value.param) == ("avd", "room.create", "user_id")
    assert str(info.value).startswith("avd room.create: invalid parameter `user_id`: ")

    with pytest.raises(meetkit.UnknownEndpoint) as unknown:
        client.call("avd", "room.creat")
    assert "room.create" in unknown.value.suggestions
    assert str(unknown.value).startswith("avd: unknown endpoint `room.creat`; did you mean `room.create`")


def test_config_error(tmp_path: Path) -> None:
    cfg = tmp_path / "meetkit.toml"
    cfg.write_text("[profiles.a.avd]\nbase_url='http://x'\naccess_key='a'\nsecret_key='s'\n")
    with pytest.raises(meetkit.ConfigError) as info:
        meetkit.Client("b", config=cfg)
    assert "no profile named `b`" in str(info.value) and info.value.kind == "config"
    with pytest.raises(meetkit.ConfigError):
        meetkit.Client(profile_dict={"avd": {"base_url": "http://x"}})
    with pytest.raises(meetkit.ConfigError, match="unknown vendor `zoom`"):
        meetkit.Client(profile_dict={}).call("zoom", "room.list")


def test_events_of_a_vendor_without_events(client: meetkit.Client) -> None:
    # The core reports this as a configuration error (no Unsupported variant yet).
    with pytest.raises(meetkit.ConfigError, match="sends no events"):
        client.events("avd")


def test_missing_vendor_section(sim: meetkit.Simulator) -> None:
    c = meetkit.Client(profile_dict=sim_profile(sim))
    with pytest.raises(meetkit.ConfigError, match="has no netease connection"):
        c.vendor("netease")


def test_auth_error(sim: meetkit.Simulator) -> None:
    profile = sim_profile(sim)
    profile["avd"]["secret_key"] = "wrong-secret"
    with pytest.raises(meetkit.AuthError) as info:
        meetkit.Client(profile_dict=profile).call("avd", "room.list")
    assert info.value.vendor == "avd" and "wrong-secret" not in str(info.value)


def test_transport_error() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    profile = {
        "avd": {"base_url": f"http://127.0.0.1:{port}", "access_key": "a", "secret_key": "s"},
        "transport": {"max_attempts": 1},
    }
    with pytest.raises(meetkit.TransportError) as info:
        meetkit.Client(profile_dict=profile).call("avd", "room.list")
    assert info.value.retryable and info.value.kind == "transport"


def test_timeout_error(sim: meetkit.Simulator, client: meetkit.Client) -> None:
    slow = meetkit.Client(profile_dict=sim_profile(sim, request_timeout_secs=0.3, max_attempts=1))
    slow.call("avd", "room.list")  # token fetched before the fault
    admin(sim, "POST", "faults", {"latency_ms": 2000, "paths": ["/sdkapi/v2/room/list"]})
    with pytest.raises(TimeoutError) as info:  # the builtin catches it too
        slow.call("avd", "room.list")
    assert isinstance(info.value, meetkit.TimeoutError)
    assert info.value.after == pytest.approx(0.3) and str(info.value) == "avd room.list: timed out after 300ms"


def test_http_error(sim: meetkit.Simulator, client: meetkit.Client) -> None:
    c = meetkit.Client(profile_dict=sim_profile(sim, max_attempts=1))
    c.call("avd", "room.list")
    admin(sim, "POST", "faults", {"error_status": 500, "paths": ["/sdkapi/v2/room/list"]})
    with pytest.raises(meetkit.HttpError) as info:
        c.call("avd", "room.list")
    assert info.value.status == 500 and info.value.code == "500"
    assert isinstance(info.value, meetkit.ApiError)


def test_decode_error(sim: meetkit.Simulator, client: meetkit.Client) -> None:
    c = meetkit.Client(profile_dict=sim_profile(sim, max_attempts=1))
    c.call("avd", "room.list")
    admin(sim, "POST", "faults", {"malformed_rate": 1.0, "paths": ["/sdkapi/v2/room/list"]})
    with pytest.raises(meetkit.DecodeError) as info:
        c.call("avd", "room.list")
    assert info.value.endpoint == "room.list"


def test_script_error(client: meetkit.Client, tmp_path: Path) -> None:
    script = tmp_path / "broken.rhai"
    script.write_text("let x = 1;\nlet y = ;\n")
    with pytest.raises(meetkit.ScriptError) as info:
        meetkit.run_script(script, client=client, out=tmp_path)
    e = info.value
    assert (e.file, e.line) == (str(script), 2) and e.column is not None
    assert str(e).startswith(f"{script}:2:")


def test_download_errors(sim: meetkit.Simulator, client: meetkit.Client, tmp_path: Path) -> None:
    url = record(sim, client, "errors")[0]["download_url"]

    with pytest.raises(meetkit.CancelledError) as cancelled:
        client.download(url, tmp_path / "c", progress=lambda p: False)
    assert cancelled.value.kind == "cancelled"
    assert not any((tmp_path / "c").iterdir())

    with pytest.raises(meetkit.IntegrityError) as integrity:
        client.download(url, tmp_path / "i", expected_md5="0" * 32, progress=False)
    assert integrity.value.what == "md5" and integrity.value.expected == "0" * 32
    assert not any((tmp_path / "i").iterdir())

    # checksum=False skips the MD5 (the file still arrives whole); asking for one anyway is refused.
    unchecked = client.download(url, tmp_path / "u", checksum=False, progress=False)
    assert unchecked.md5 == "" and unchecked.path.stat().st_size == unchecked.bytes > 0
    with pytest.raises(meetkit.InvalidParams, match="checksum"):
        client.download(url, tmp_path / "u2", checksum=False, expected_md5="0" * 32, progress=False)

    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    with pytest.raises(meetkit.IoError) as io:
        client.download(url, blocker, progress=False)
    assert isinstance(io.value, OSError) and io.value.path == blocker

    def boom(p: meetkit.Progress) -> bool:
        raise ValueError("from the callback")

    with pytest.raises(ValueError, match="from the callback"):
        client.download(url, tmp_path / "b", progress=boom)


def test_download_stall_and_status_errors(sim: meetkit.Simulator, tmp_path: Path) -> None:
    c = meetkit.Client(profile_dict=sim_profile(sim, read_timeout_secs=0.3))
    url = record(sim, c, "stall")[0]["download_url"]
    # Every attempt (the first and its 5 resumes) stalls after 100 bytes: a timeout, not a hang.
    stall = {"stall_after_bytes": 100, "stall_ms": 600000, "paths": ["/attachment"], "count": 6}
    admin(sim, "POST", "faults", stall)
    with pytest.raises(meetkit.TimeoutError) as info:
        c.download(url, tmp_path / "s", progress=False)
    e = info.value
    assert (e.kind, e.vendor, e.endpoint, e.retryable) == ("timeout", None, "download", True)
    assert not any((tmp_path / "s").iterdir())

    missing = f"{sim.avd_base_url}/attachment?file=/nope/x.mp4"
    with pytest.raises(meetkit.HttpError) as http:
        c.download(missing, tmp_path / "m", progress=False)
    assert (http.value.status, http.value.code, http.value.vendor) == (404, "404", None)
    assert http.value.endpoint == "download" and not http.value.retryable


def test_not_json(client: meetkit.Client) -> None:
    with pytest.raises(TypeError, match="params.room_id"):
        client.call("avd", "room.create", {"room_id": object(), "user_id": "ops"})
