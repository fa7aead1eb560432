"""The unified meeting API (`client.meeting(vendor)`) against the in-process simulator: the
canonical record workflow on AVD and vmr with the files on disk, handles, options, and every
unsupported cell of NetEase and Kedacom refused before any request."""

from __future__ import annotations

import asyncio
import hashlib
import json
import urllib.request
from pathlib import Path
from typing import Any, Callable, Dict, List, Union

import pytest

import meetkit
from conftest import REPO, advance

DEVICE = "sip:1001@10.0.0.5"


def servers(sim: meetkit.Simulator) -> List[str]:
    return [sim.avd_base_url, sim.kedacom_base_url, sim.vmr_base_url, sim.vmr_mcu_base_url, sim.netease_base_url]


def request_count(sim: meetkit.Simulator) -> int:
    """Requests every simulator server has seen since the last `clear_stats`."""
    total = 0
    for base in servers(sim):
        with urllib.request.urlopen(f"{base}/_sim/stats", timeout=10) as resp:
            stats = json.loads(resp.read().decode())
        total += sum(n for n in stats["requests"].values() if isinstance(n, int))
    return total


def clear_stats(sim: meetkit.Simulator) -> None:
    for base in servers(sim):
        req = urllib.request.Request(f"{base}/_sim/stats", method="DELETE")
        with urllib.request.urlopen(req, timeout=10):
            pass


def published(meeting: meetkit.Meeting, room: Union[meetkit.Room, str]) -> List[meetkit.Recording]:
    """The recordings listed for `room`, which must be some (AVD and vmr list them once stopped)."""
    files = meeting.recordings(room)
    assert files, f"{room}: no recordings listed"
    return files


def assert_on_disk(done: List[meetkit.Downloaded], out: Path) -> None:
    assert done
    for d in done:
        assert d.path.parent == out and d.path.is_file()
        data = d.path.read_bytes()
        assert len(data) == d.bytes > 0
        assert hashlib.md5(data).hexdigest() == d.md5


def test_avd_record_workflow_through_the_meeting_api(
    sim: meetkit.Simulator, client: meetkit.Client, tmp_path: Path
) -> None:
    m = client.meeting("avd")
    assert m.vendor == "avd" and m.can("invite") and not m.can("schedule")
    room = m.create_room("Py Weekly")
    assert (room.handle, room.vendor, room.id, room.name) == ("avd:py-weekly", "avd", "py-weekly", "Py Weekly")
    assert isinstance(room.raw, dict)
    device = m.invite(room, DEVICE, timeout=10)
    assert device.id in [p.id for p in m.participants(room)]
    m.mute(room, device)
    m.unmute(room, device.id)
    m.start_recording(room)
    advance(sim, 2)
    assert m.stop_recording(room), "AVD reports the produced files at once"
    m.start_live(room, "rtmp://live.example.com/app/key")
    m.stop_live(room)
    # The handle string works wherever a room does, e.g. in a later run.
    files = published(m, room.handle)
    assert all(f.url and f.file_name and f.size is None for f in files)
    done = m.download_recordings(room.handle, tmp_path, progress=False)
    assert sorted(d.path.name for d in done) == sorted(f.file_name for f in files)
    assert_on_disk(done, tmp_path)
    m.end(room)
    with pytest.raises(meetkit.ApiError):
        m.participants(room)


def test_vmr_record_workflow_through_the_meeting_api(
    sim: meetkit.Simulator, client: meetkit.Client, tmp_path: Path
) -> None:
    m = client.meeting("vmr")
    room = m.create_room({"name": "lab"})
    assert room.vendor == "vmr" and room.secondary_id
    assert meetkit.Room.from_handle(room.handle) == room
    m.start(room)
    device = m.invite(room, DEVICE)
    assert device.raw["service_type"] == "conference"
    m.mute(room, device)

    def muted() -> Any:
        return next(p.muted for p in m.participants(room) if p.id == device.id)

    assert muted() is True
    m.unmute(room, device)
    assert muted() is False
    assert isinstance(m.start_recording(room)["recordId"], str)
    advance(sim, 2)
    assert m.stop_recording(room) == []
    files = published(m, room)
    assert all(f.size is not None for f in files), "vmr gives exact sizes"
    seen: List[meetkit.Progress] = []
    done = m.download_recordings(room, tmp_path, progress=seen.append)
    assert_on_disk(done, tmp_path)
    assert [d.bytes for d in done] == [f.size for f in files]
    assert {p.file_name for p in seen} == {d.path.name for d in done}
    m.start_live(room, "rtmp://live.example.com/app/key")
    m.stop_live(room)
    m.end(room)


def test_netease_schedule_takes_a_datetime_and_kedacom_options(client: meetkit.Client) -> None:
    import datetime

    ne = client.meeting("netease")
    start = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=1)
    booked = ne.schedule("later", start=start, minutes=30)
    read = client.call("netease", "meeting.get", {"meetingUniqueId": int(booked.id)})
    assert abs(read["startTime"] - start.timestamp() * 1000) < 1000, read
    assert read["meetingId"] == booked.secondary_id
    ne.end(booked)

    kd = client.meeting("kedacom")
    room = kd.create_room("instant", invite=[DEVICE], record=True)
    assert [p.id for p in kd.participants(room.handle)] == ["1001@10.0.0.5"]
    kd.end(room)
    # A portable option Kedacom cannot use is ignored; a key that is no option is refused.
    hosted = kd.create_room("hosted", host="h")
    kd.end(hosted)
    kd.end(hosted)  # ending twice is not an error
    with pytest.raises(meetkit.InvalidParams) as info:
        kd.create_room("x", hots="h")
    assert info.value.param == "hots" and "did you mean `host`?" in info.value.reason
    with pytest.raises(TypeError):
        kd.create_room("x", name="y")
    with pytest.raises(TypeError):
        kd.start(42)  # type: ignore[arg-type]


def test_handles_and_capabilities(client: meetkit.Client) -> None:
    room = meetkit.Room.from_handle("kedacom:123%23456:m-1")
    assert (room.vendor, room.id, room.secondary_id, room.raw) == ("kedacom", "123#456", "m-1", None)
    assert str(room) == room.handle and hash(room) == hash(meetkit.Room.from_handle(room.handle))
    with pytest.raises(meetkit.ConfigError, match="kedacom:<conf_id>:<meeting_id>"):
        meetkit.Room.from_handle("kedacom:123")
    caps = meetkit.capabilities("vmr")
    assert list(caps)[:3] == ["create_room", "schedule", "start"] and len(caps) == 14
    assert caps["invite"]["supported"] is True and "conference.dial" in caps["invite"]["endpoints"]
    assert caps["schedule"]["supported"] is False and caps["schedule"]["hint"]
    # The same row shape as `meetkit capabilities --output json`, options included.
    assert caps["create_room"]["options"] == ["name"] and "no length" in caps["create_room"]["ignored"]["minutes"]
    assert caps["end"] == {**caps["end"], "options": [], "ignored": {}, "hint": None}
    with pytest.raises(meetkit.ConfigError, match="start_recording"):
        client.meeting("avd").can("record")
    with pytest.raises(meetkit.ConfigError):
        client.meeting("zoom")


def attempt(m: meetkit.Meeting, verb: str, room: str, tmp: Path) -> Callable[[], Any]:
    """A call of `verb` with plausible arguments."""
    calls: Dict[str, Callable[[], Any]] = {
        "create_room": lambda: m.create_room("x"),
        "schedule": lambda: m.schedule("x", start=2_000_000_000),
        "start": lambda: m.start(room),
        "invite": lambda: m.invite(room, DEVICE, timeout=1),
        "participants": lambda: m.participants(room),
        "mute": lambda: m.mute(room, "p1"),
        "unmute": lambda: m.unmute(room, "p1"),
        "start_recording": lambda: m.start_recording(room),
        "stop_recording": lambda: m.stop_recording(room),
        "recordings": lambda: m.recordings(room),
        "download_recordings": lambda: m.download_recordings(room, tmp, progress=False),
        "start_live": lambda: m.start_live(room, "rtmp://live.example.com/app/key"),
        "stop_live": lambda: m.stop_live(room),
        "end": lambda: m.end(room),
    }
    return calls[verb]


@pytest.mark.parametrize("vendor,room", [("netease", "netease:1234:123456789"), ("kedacom", "kedacom:5550001:10000001")])
def test_every_unsupported_cell_raises_before_any_request(
    sim: meetkit.Simulator, client: meetkit.Client, tmp_path: Path, vendor: str, room: str
) -> None:
    m = client.meeting(vendor)
    caps = meetkit.capabilities(vendor)
    assert caps == m.capabilities()
    unsupported = [verb for verb, cap in caps.items() if not cap["supported"]]
    assert len(unsupported) >= 6, unsupported
    for verb in unsupported:
        assert not m.can(verb)
        clear_stats(sim)
        with pytest.raises(meetkit.Unsupported) as info:
            attempt(m, verb, room, tmp_path)()
        e = info.value
        assert (e.vendor, e.verb, e.hint) == (vendor, verb, caps[verb]["hint"])
        assert isinstance(e, meetkit.ConfigError) and e.kind == "unsupported"
        assert request_count(sim) == 0, f"{vendor} {verb} sent a request"
    # The async variant refuses the same way.
    clear_stats(sim)

    async def main() -> None:
        await m.ainvite(room, DEVICE)

    with pytest.raises(meetkit.Unsupported):
        asyncio.run(main())
    assert request_count(sim) == 0


def test_async_verbs(client: meetkit.Client) -> None:
    m = client.meeting("avd")

    async def main() -> List[str]:
        rooms = await asyncio.gather(*(m.acreate_room(f"async meeting {i}") for i in range(5)))
        device = await m.ainvite(rooms[0], DEVICE, timeout=10)
        people = await m.aparticipants(rooms[0])
        assert device.id in [p.id for p in people]
        await m.aend(rooms[0])  # AVD closes only opened rooms (someone joined)
        return [r.handle for r in rooms]

    assert sorted(asyncio.run(main())) == [f"avd:async-meeting-{i}" for i in range(5)]


def test_readme_example_runs_and_its_table_matches(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    readme = (REPO / "bindings-python" / "README.md").read_text()
    section = readme.split("## Meeting API", 1)[1].split("\n## ", 1)[0]
    example = section.split("```python\n", 1)[1].split("```", 1)[0]
    monkeypatch.chdir(tmp_path)
    exec(compile(example, "README.md", "exec"), {})
    assert any(p.stat().st_size > 0 for p in (tmp_path / "recordings").iterdir())

    vendors = ["avd", "kedacom", "vmr", "netease"]
    caps = {v: meetkit.capabilities(v) for v in vendors}
    rows = [line for line in section.splitlines() if line.startswith("| `") and line.count("|") == 6]
    assert len(rows) == 14
    for row in rows:
        cells = [c.strip() for c in row.strip("|").split("|")]
        verb = cells[0].strip("`")
        assert cells[1:] == ["✓" if caps[v][verb]["supported"] else "✗" for v in vendors], row
