"""Concurrent canonical workflows from Python: one ``asyncio.gather`` of N ``meeting()`` workflows.

    python bench/python/fanout.py --sim sim.json --workflows 1000 --out DIR

``sim.json`` is what meetkit-bench saves (``{"profile": {...}, "vmr_rooms": [{"account",
"password"}]}``). The workflows are spread over the four vendors exactly as figure 5 in Rust
(bench/src/fanout.rs): room -> device (where the vendor can) -> record -> 1 s -> stop -> end ->
wait for the recordings -> download them, each step only where ``Meeting.can`` says so; vmr logs
in per room, so each vmr workflow gets a client of its own on a room of its own. Every step is
an ``a...`` awaitable on meetkit's runtime, except the download, which the Python API offers only
as the blocking ``download_recordings`` (run with ``asyncio.to_thread``).

Prints one JSON line: ``{"workflows", "completed", "errors", "wall_s", "p50_ms", "p99_ms",
"files", "bytes", "peak_rss"}`` (peak RSS: VmHWM of this process, bytes). Run by meetkit-bench.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import time
from typing import Any, Dict, List, Tuple

import meetkit

VENDORS = ["avd", "kedacom", "vmr", "netease"]


async def workflow(client: "meetkit.Client", vendor: str, i: int, out: str) -> Tuple[int, int]:
    m = client.meeting(vendor)
    room = await m.acreate_room({"name": f"py workflow {i}"})
    try:
        if m.can("invite"):
            await m.ainvite(room, "sip:1001@10.0.0.5", 60)
        if m.can("start_recording"):
            await m.astart_recording(room)
        await asyncio.sleep(1)
        if m.can("stop_recording"):
            await m.astop_recording(room)
    finally:
        await m.aend(room)
    if not m.can("download_recordings"):
        return 0, 0
    deadline = time.monotonic() + 120
    while not await m.arecordings(room):
        if time.monotonic() > deadline:
            raise TimeoutError(f"{vendor}: no recording 120 s after the meeting ended")
        await asyncio.sleep(0.5)
    done = await asyncio.to_thread(m.download_recordings, room, f"{out}/{i}", progress=False)
    return len(done), sum(d.bytes for d in done)


def peak_rss() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return 0


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sim", required=True, help="the JSON file meetkit-bench saves")
    ap.add_argument("--workflows", type=int, default=1000)
    ap.add_argument("--out", required=True, help="where the recordings are downloaded")
    args = ap.parse_args()
    sim: Dict[str, Any] = json.load(open(args.sim))
    profile = sim["profile"]
    shared = meetkit.Client(profile_dict=profile)
    rooms: List[Dict[str, str]] = sim["vmr_rooms"]

    async def timed(i: int) -> Tuple[float, Tuple[int, int]]:
        vendor = VENDORS[i % len(VENDORS)]
        client = shared
        if vendor == "vmr":
            room = rooms[(i // len(VENDORS)) % len(rooms)]
            client = meetkit.Client(profile_dict={"vmr": dict(profile["vmr"], **room)})
        t = time.monotonic()
        result = await workflow(client, vendor, i, args.out)
        return time.monotonic() - t, result

    started = time.monotonic()
    results = await asyncio.gather(*(timed(i) for i in range(args.workflows)), return_exceptions=True)
    wall = time.monotonic() - started
    ok = sorted(r[0] for r in results if not isinstance(r, BaseException))
    errors = sorted({f"{type(r).__name__}: {r}" for r in results if isinstance(r, BaseException)})

    def pct(p: float) -> float:
        return ok[max(math.ceil(len(ok) * p) - 1, 0)] * 1000 if ok else 0.0

    print(
        json.dumps(
            {
                "workflows": args.workflows,
                "completed": len(ok),
                "errors": errors[:5],
                "wall_s": wall,
                "p50_ms": pct(0.50),
                "p99_ms": pct(0.99),
                "files": sum(r[1][0] for r in results if not isinstance(r, BaseException)),
                "bytes": sum(r[1][1] for r in results if not isinstance(r, BaseException)),
                "peak_rss": peak_rss(),
            }
        )
    )


if __name__ == "__main__":
    asyncio.run(main())
