"""``python -m meetkit.temporal``: run a worker, or start a ``RecordMeeting`` workflow.

::

    python -m meetkit.temporal worker --address localhost:7233 --task-queue meetkit \\
        --profile lab --out /var/lib/meetkit/recordings
    python -m meetkit.temporal record-meeting --address localhost:7233 --vendor avd \\
        --duration 3600 --wait

``worker`` prints one line when it polls, then runs until SIGINT or SIGTERM (it finishes or
hands back its activities, then exits 0). ``record-meeting`` prints the workflow id and, with
``--wait``, the result as one JSON object. Exit codes: 0 ok, 2 usage, 1 the workflow failed
(its error on stderr), 7 configuration (a profile that cannot be loaded), 4 Temporal
unreachable.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import os
import signal
import sys
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any, Dict, List, Optional

from temporalio.client import Client as TemporalClient
from temporalio.client import WorkflowFailureError

import meetkit
from meetkit.temporal.types import RecordMeetingInput, RecordMeetingResult
from meetkit.temporal.worker import DEFAULT_TASK_QUEUE, new_worker
from meetkit.temporal.workflows import RecordMeeting

EXIT_FAILED = 1
EXIT_NETWORK = 4
EXIT_CONFIG = 7


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m meetkit.temporal",
        description="Run meetkit workflows on Temporal: a worker, or a RecordMeeting workflow.",
    )
    sub = p.add_subparsers(dest="command", required=True)

    def common(q: argparse.ArgumentParser) -> None:
        q.add_argument("--address", default="localhost:7233", help="Temporal frontend HOST:PORT (default localhost:7233)")
        q.add_argument("--namespace", default="default", help="Temporal namespace (default: default)")
        q.add_argument("--task-queue", default=DEFAULT_TASK_QUEUE, help=f"task queue (default {DEFAULT_TASK_QUEUE})")

    w = sub.add_parser(
        "worker",
        help="poll a task queue and run RecordMeeting, RunScript and meetkit's activities",
        epilog="example: python -m meetkit.temporal worker --address temporal:7233 --profile lab --out /srv/rec",
    )
    common(w)
    prof = w.add_mutually_exclusive_group()
    prof.add_argument("--profile", help="profile name in the config file (default: as the meetkit CLI picks it)")
    prof.add_argument("--profile-json", type=Path, help="a profile as one JSON object (e.g. the line `meetkit sim` prints)")
    w.add_argument("--config", type=Path, help="meetkit.toml to read --profile from (default: as the CLI)")
    w.add_argument("--out", type=Path, default=Path("recordings"), help="folder for downloads (default ./recordings)")
    w.add_argument("--state", type=Path, help="folder for run_script journals (default OUT/.meetkit-journals)")
    w.add_argument("--journal", type=Path, help="record this worker's calls in this run journal (meetkit runs ...)")
    w.add_argument("--max-concurrent-activities", type=int, default=200, help="default 200")
    w.add_argument(
        "--sticky-timeout",
        type=float,
        default=10.0,
        help="seconds a workflow task waits for this worker before another worker takes it over (default 10)",
    )

    r = sub.add_parser(
        "record-meeting",
        help="start a RecordMeeting workflow; prints its id (and its result with --wait)",
        epilog="example: python -m meetkit.temporal record-meeting --vendor vmr --duration 1800 --wait",
    )
    common(r)
    r.add_argument("--vendor", required=True, choices=["avd", "kedacom", "vmr", "netease"])
    r.add_argument("--duration", required=True, type=float, help="seconds to record")
    r.add_argument("--name", default="", help="room name (default: the workflow id)")
    r.add_argument("--device", default="sip:1001@10.0.0.5", help="address to call in; '' for none")
    r.add_argument("--room-options", default="{}", help='vendor options of create_room as JSON, e.g. \'{"record": true}\'')
    r.add_argument("--subdir", default="", help="download subfolder on the worker (default: the workflow id)")
    r.add_argument("--recordings-timeout", type=float, default=180.0, help="seconds to wait for the files (default 180)")
    r.add_argument("--workflow-id", default="", help="default record-<vendor>-<random>")
    r.add_argument("--wait", action="store_true", help="wait for the result and print it as JSON")
    return p


def _fail(code: int, message: str) -> int:
    print(f"meetkit.temporal: {message}", file=sys.stderr)
    return code


async def _connect(args: argparse.Namespace) -> TemporalClient:
    return await TemporalClient.connect(args.address, namespace=args.namespace)


def _meetkit_client(args: argparse.Namespace) -> meetkit.Client:
    if args.profile_json is not None:
        try:
            profile = json.loads(args.profile_json.read_text())
        except (OSError, ValueError) as e:
            raise meetkit.ConfigError(f"--profile-json {args.profile_json}: {e}") from e
        return meetkit.Client("json", profile_dict=profile, journal=args.journal)
    return meetkit.Client(args.profile, config=args.config, journal=args.journal)


async def _worker(args: argparse.Namespace) -> int:
    try:
        client = _meetkit_client(args)
    except meetkit.MeetkitError as e:
        return _fail(EXIT_CONFIG, str(e))
    try:
        temporal = await _connect(args)
    except Exception as e:  # the SDK raises RuntimeError for an unreachable server
        return _fail(EXIT_NETWORK, f"cannot reach Temporal at {args.address}: {e} (is the server running? --address)")
    sticky = timedelta(seconds=args.sticky_timeout)
    worker = new_worker(
        temporal,
        client,
        task_queue=args.task_queue,
        out=args.out,
        state=args.state,
        max_concurrent_activities=args.max_concurrent_activities,
        sticky_queue_timeout=sticky,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with worker:
        print(
            f"meetkit worker: polling task queue {args.task_queue!r} at {args.address} "
            f"(profile {client.profile_name}, vendors {', '.join(client.vendors)}, out {args.out})",
            flush=True,
        )
        await stop.wait()
        print("meetkit worker: shutting down", flush=True)
    client.close()
    return 0


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    return value


async def _record(args: argparse.Namespace) -> int:
    try:
        options: Dict[str, Any] = json.loads(args.room_options)
        if not isinstance(options, dict):
            raise ValueError("expected a JSON object")
    except ValueError as e:
        return _fail(2, f"--room-options: {e}")
    try:
        temporal = await _connect(args)
    except Exception as e:
        return _fail(EXIT_NETWORK, f"cannot reach Temporal at {args.address}: {e} (is the server running? --address)")
    workflow_id = args.workflow_id or f"record-{args.vendor}-{uuid.uuid4().hex[:12]}"
    handle = await temporal.start_workflow(
        RecordMeeting.run,
        RecordMeetingInput(
            vendor=args.vendor,
            duration=args.duration,
            name=args.name,
            room_options=options,
            device=args.device,
            subdir=args.subdir,
            recordings_timeout=args.recordings_timeout,
        ),
        id=workflow_id,
        task_queue=args.task_queue,
    )
    print(workflow_id, flush=True)
    if not args.wait:
        return 0
    try:
        result: RecordMeetingResult = await handle.result()
    except WorkflowFailureError as e:
        cause: BaseException = e.cause
        while isinstance(getattr(cause, "cause", None), BaseException):
            cause = getattr(cause, "cause")
        return _fail(EXIT_FAILED, f"workflow {workflow_id} failed: {cause}")
    print(json.dumps(_plain(result)), flush=True)
    return 0


def main(argv: Optional[List[str]] = None) -> int:
    """Entry point of ``python -m meetkit.temporal``; returns the exit code."""
    args = _parser().parse_args(argv)
    if args.command == "worker":
        return asyncio.run(_worker(args))
    return asyncio.run(_record(args))


if __name__ == "__main__":
    code = main()
    # temporalio's client threads can crash CPython's finalization (SIGABRT/SIGSEGV,
    # temporalio/sdk-python#300): everything is done and closed here, so skip it.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
