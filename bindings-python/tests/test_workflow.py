"""The AVD record workflow end to end against the in-process simulator."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

import meetkit
import meetkit._progress as progress_mod
from conftest import admin, advance, record


def test_record_workflow_leaves_the_files_on_disk(sim: meetkit.Simulator, client: meetkit.Client, tmp_path: Path) -> None:
    room = client.call("avd", "room.create", {"room_id": "wf", "user_id": "ops", "topic": "Weekly"})
    assert room["room_id"] == "wf"

    avd = client.vendor("avd")
    invite = avd.call("device.call", {"room_id": "wf", "name": "device", "url": "sip:1001@10.0.0.5"})
    advance(sim, 2)  # past the simulator's 1 s invite delay
    status = avd.call("device.get_invite_status", {"call_id": invite["call_id"]})
    assert str(status["invite_status"]) == "1", f"device not connected: {status}"

    rec = avd.call("room.mix_record.start", {"room_id": "wf", "name": "weekly"})
    advance(sim, 2)
    stopped = avd.call("room.mix_record.stop", {"room_id": "wf", "record_id": rec["record_id"]})
    assert avd.call("room.record.status", {"record_id": rec["record_id"]})["record_status"] is not None

    state = str(admin(sim, "GET", "state"))
    files = stopped["data"]
    assert files
    for f in files:
        got = client.download(f["download_url"], tmp_path, progress=False)
        assert got.path.parent == tmp_path and got.path.is_file()
        data = got.path.read_bytes()
        assert len(data) == got.bytes > 0
        assert hashlib.md5(data).hexdigest() == got.md5
        assert got.md5 in state, "the simulator's own record of the file has this checksum"
    client.call("avd", "room.close", {"room_id": "wf"})


def test_endpoints_describe_the_table(client: meetkit.Client) -> None:
    eps = {e.id: e for e in client.endpoints("avd")}
    create = eps["room.create"]
    assert create.vendor == "avd" and create.method in ("GET", "POST")
    assert create.signature.startswith("room.create(") and "user_id: string" in create.signature
    assert create.summary
    names = {p["name"]: p for p in create.params}
    assert names["user_id"]["required"] is True and names["user_id"]["type"] == "string"
    assert names["room_id"]["required"] is False, "the server generates room_id when omitted"
    assert [e.id for e in client.vendor("avd").endpoints()] == [e.id for e in client.endpoints("avd")]
    assert len(eps) > 50


def test_endpoint_response_lists_the_fields_that_come_back(client: meetkit.Client) -> None:
    get = {e.id: e for e in client.endpoints("avd")}["room.mix_record.get"]
    fields = {f["path"]: f for f in get.response}
    assert fields["data[].download_url"]["type"] == "string"
    assert "download" in fields["data[].download_url"]["doc"].lower()
    assert list(fields)[:3] == ["ret", "msg", "data"], "envelope first, parents before their fields"
    assert all(set(f) == {"path", "type", "doc"} for f in get.response)
    for vendor in ("avd", "kedacom", "vmr", "netease"):
        for e in client.endpoints(vendor):
            assert e.response, f"{vendor} {e.id} documents no response field"
    jpeg = {e.id: e for e in client.endpoints("vmr")}["presentation.jpeg"]
    assert [f["path"] for f in jpeg.response] == [""], "a body that is not JSON is the body itself"


def test_client_from_a_config_file(sim: meetkit.Simulator, tmp_path: Path) -> None:
    avd = sim.profile["avd"]
    cfg = tmp_path / "meetkit.toml"
    cfg.write_text(
        "[profiles.lab.avd]\n"
        f"base_url = \"{avd['base_url']}\"\naccess_key = \"{avd['access_key']}\"\nsecret_key = \"{avd['secret_key']}\"\n"
    )
    with meetkit.Client("lab", config=cfg) as c:
        assert c.profile_name == "lab" and c.vendors == ["avd"]
        assert "rooms" in c.call("avd", "room.list")


def test_client_from_environment_variables(sim: meetkit.Simulator, monkeypatch: pytest.MonkeyPatch) -> None:
    mp = monkeypatch
    avd = sim.profile["avd"]
    mp.delenv("MEETKIT_CONFIG", raising=False)
    mp.delenv("MEETKIT_PROFILE", raising=False)
    mp.setenv("MEETKIT_AVD_BASE_URL", avd["base_url"])
    mp.setenv("MEETKIT_AVD_ACCESS_KEY", avd["access_key"])
    mp.setenv("MEETKIT_AVD_SECRET_KEY", avd["secret_key"])
    mp.chdir(Path(__file__).parent)
    c = meetkit.Client()
    assert c.profile_name == "env" and c.vendors == ["avd"]
    c.call("avd", "room.list")


def test_download_progress_callable_and_tqdm(
    sim: meetkit.Simulator,
    client: meetkit.Client,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url = record(sim, client, "progress")[0]["download_url"]
    seen: "list[meetkit.Progress]" = []
    got = client.download(url, tmp_path / "cb", progress=seen.append)
    assert seen and seen[-1].downloaded == got.bytes and seen[-1].total == got.bytes

    # Not interactive (pytest captures stderr): progress=True draws nothing.
    client.download(url, tmp_path / "quiet")
    assert capsys.readouterr().err == ""

    # Interactive with tqdm installed: one bar named after the file.
    pytest.importorskip("tqdm")
    monkeypatch.setattr(progress_mod, "_interactive", lambda: True)
    client.download(url, tmp_path / "bar")
    assert got.path.name in capsys.readouterr().err
