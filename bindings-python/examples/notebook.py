"""A typed tour of the meetkit API against the in-process simulator.

Run it from the repository root: `python bindings-python/examples/notebook.py`. The test
suite runs it and checks it with `mypy --strict`.
"""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path
from typing import Any, List, Optional

import meetkit


def on_progress(p: meetkit.Progress) -> Optional[bool]:
    print(f"{p.file_name}: {p.downloaded}/{p.total or '?'} bytes")
    return None  # False would cancel the download


async def list_rooms(client: meetkit.Client, times: int) -> List[Any]:
    return await asyncio.gather(*(client.acall("avd", "room.list") for _ in range(times)))


def main(out: Path) -> None:
    with meetkit.Simulator() as sim, sim.client() as client:
        print(sim, sim.profile)
        avd: meetkit.Vendor = client.vendor("avd")
        avd.call("room.create", {"room_id": "weekly", "user_id": "ops"})
        try:
            client.call("avd", "room.create", {"room_id": "weekly", "user_id": "ops"})
        except meetkit.ApiError as e:
            code: str = e.code
            print(f"{e.vendor} {e.endpoint} refused: {code} ({e.meaning})")
        for ep in client.endpoints("avd")[:3]:
            print(ep.signature, "-", ep.summary)

        call = avd.call("device.call", {"room_id": "weekly", "name": "device", "url": "sip:1001@10.0.0.5"})
        while str(avd.call("device.get_invite_status", {"call_id": call["call_id"]})["invite_status"]) != "1":
            time.sleep(0.2)
        rec = avd.call("room.mix_record.start", {"room_id": "weekly"})
        stopped = avd.call("room.mix_record.stop", {"room_id": "weekly", "record_id": rec["record_id"]})
        got: meetkit.Downloaded = client.download(stopped["data"][0]["download_url"], out, progress=on_progress)
        size: int = got.bytes
        print(got.path, size, got.md5)

        print(len(asyncio.run(list_rooms(client, 3))), "concurrent room lists")
        result: Any = meetkit.run_script(
            "scripts/avd_record_meeting.rhai", client=client, vars={"record_seconds": 1}, out=out
        )
        print("script result:", result)
        # The unified meeting API: the same verbs on every vendor; rooms are handles.
        for vendor in ("vmr", "netease"):
            meeting: meetkit.Meeting = client.meeting(vendor)
            room: meetkit.Room = meeting.create_room("meetkit demo")
            print(vendor, "room", room.handle)
            if meeting.can("invite"):
                device: meetkit.Participant = meeting.invite(room, "sip:1001@10.0.0.5")
                print("  joined:", device.id, device.name)
            else:
                try:
                    meeting.invite(room.handle, "sip:1001@10.0.0.5")
                except meetkit.Unsupported as e:
                    print(f"  no {e.verb}: {e.hint}")
            meeting.end(room)
        print({verb: cap["supported"] for verb, cap in meetkit.capabilities("kedacom").items()})

        try:
            for event in client.events("avd"):
                print(event.kind, event.data, event.received_at)
        except meetkit.ConfigError as e:
            print(e)


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("recordings"))
