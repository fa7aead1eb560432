"""meetkit's Temporal workflows: ``RecordMeeting`` and ``RunScript``.

Deterministic code only: every vendor request is an activity (``meetkit.temporal.activities``),
the wait is a durable timer, and the state that compensation needs — the room's handle, whether
a recording was started, what a script left running — lives in the workflow's history, so any
worker can finish or undo a workflow whose worker died.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any, Dict, List, Optional

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError, TimeoutError as TemporalTimeoutError

with workflow.unsafe.imports_passed_through():
    from meetkit.temporal.retry import COMPENSATION_RETRY_POLICY, RETRY_POLICY
    from meetkit.temporal.types import (
        CompensateInput,
        CreateRoomInput,
        DownloadedFile,
        DownloadInput,
        InviteInput,
        RecordMeetingInput,
        RecordMeetingResult,
        RoomInput,
        RunScriptInput,
        RunScriptResult,
        StopResourcesInput,
    )

__all__ = ["RecordMeeting", "RunScript", "HEARTBEAT_TIMEOUT"]

#: A worker that dies is noticed this long after its last heartbeat; its activity then runs again elsewhere.
HEARTBEAT_TIMEOUT = timedelta(seconds=10)

#: One attempt of a short activity (a few requests, with meetkit's own retries inside).
SHORT = timedelta(minutes=2)


def _record_id(started: Any) -> Optional[str]:
    """The recording id in a vendor's start answer (AVD ``record_id``, vmr ``recordId``)."""
    if isinstance(started, dict):
        for key in ("record_id", "recordId"):
            value = started.get(key)
            if isinstance(value, str) and value:
                return value
    return None


@workflow.defn(name="RecordMeeting")
class RecordMeeting:
    """Create a room → invite a device → start recording → wait (a durable timer) → stop →
    end → download, each step where the vendor can do it.

    If anything fails after the room exists (an activity out of retries, a cancellation), the
    compensation stops the recording and ends the room — on whichever worker is alive: it
    needs only the room handle from the history.
    """

    @workflow.run
    async def run(self, input: RecordMeetingInput) -> RecordMeetingResult:
        """Run the meeting; returns what it did and the files downloaded."""
        info = workflow.info()
        name = input.name or info.workflow_id
        caps: Dict[str, bool] = await workflow.execute_activity(
            "meetkit.capabilities", input.vendor, start_to_close_timeout=SHORT, retry_policy=RETRY_POLICY,
            result_type=dict,
        )
        handle: Optional[str] = None
        recording = False
        ended = False
        skipped: List[str] = []
        participant: Optional[str] = None
        record_ids: List[str] = []
        try:
            handle = await workflow.execute_activity(
                "meetkit.create_room",
                CreateRoomInput(vendor=input.vendor, name=name, options=dict(input.room_options), key=info.workflow_id),
                start_to_close_timeout=SHORT,
                heartbeat_timeout=HEARTBEAT_TIMEOUT,
                retry_policy=RETRY_POLICY,
                result_type=str,
            )
            room = RoomInput(handle=handle)
            if input.device and caps.get("invite"):
                participant = await workflow.execute_activity(
                    "meetkit.invite",
                    InviteInput(handle=handle, address=input.device),
                    start_to_close_timeout=SHORT,
                    heartbeat_timeout=HEARTBEAT_TIMEOUT,
                    retry_policy=RETRY_POLICY,
                    result_type=str,
                )
            elif input.device:
                skipped.append("invite")
            if caps.get("start_recording"):
                # Marked before the start: if its answer is lost, compensation still stops it.
                recording = True
                started = await workflow.execute_activity(
                    "meetkit.start_recording",
                    room,
                    start_to_close_timeout=SHORT,
                    heartbeat_timeout=HEARTBEAT_TIMEOUT,
                    retry_policy=RETRY_POLICY,
                )
                record_id = _record_id(started)
                if record_id:
                    record_ids.append(record_id)
            else:
                skipped.append("start_recording")
            await workflow.sleep(timedelta(seconds=input.duration))
            if recording and caps.get("stop_recording"):
                await workflow.execute_activity(
                    "meetkit.stop_recording", room, start_to_close_timeout=SHORT, retry_policy=RETRY_POLICY
                )
                recording = False
            await workflow.execute_activity("meetkit.end", room, start_to_close_timeout=SHORT, retry_policy=RETRY_POLICY)
            ended = True
            files: List[DownloadedFile] = []
            if caps.get("download_recordings"):
                files = await workflow.execute_activity(
                    "meetkit.download_recordings",
                    DownloadInput(
                        handle=handle,
                        subdir=input.subdir or info.workflow_id,
                        record_ids=record_ids,
                        wait_seconds=input.recordings_timeout,
                    ),
                    start_to_close_timeout=timedelta(seconds=input.recordings_timeout) + timedelta(minutes=30),
                    heartbeat_timeout=HEARTBEAT_TIMEOUT,
                    retry_policy=RETRY_POLICY,
                    result_type=List[DownloadedFile],
                )
            else:
                skipped.append("download_recordings")
            return RecordMeetingResult(
                vendor=input.vendor,
                room=handle,
                participant=participant,
                record_ids=record_ids,
                files=files,
                skipped=skipped,
            )
        finally:
            if handle is not None and not ended:
                workflow.logger.warning("compensating %s: stop recording=%s, end the room", handle, recording)
                # Shielded: a cancelled workflow still undoes what it started.
                await asyncio.shield(
                    asyncio.ensure_future(
                        workflow.execute_activity(
                            "meetkit.compensate",
                            CompensateInput(handle=handle, recording=recording, end_room=True),
                            start_to_close_timeout=SHORT,
                            retry_policy=COMPENSATION_RETRY_POLICY,
                        )
                    )
                )


def _left_running(error: BaseException) -> List[Dict[str, Any]]:
    """The resources a failed ``run_script`` activity reported (its failure details, or its
    last heartbeat when its worker died)."""
    cause = error.__cause__ if isinstance(error, ActivityError) else error
    details: Any = ()
    if isinstance(cause, ApplicationError):
        details = cause.details
    elif isinstance(cause, TemporalTimeoutError):
        details = cause.last_heartbeat_details
    for detail in details:
        if isinstance(detail, dict) and isinstance(detail.get("left_running"), list):
            return list(detail["left_running"])
    return []


@workflow.defn(name="RunScript")
class RunScript:
    """A whole Rhai script as one activity (``meetkit.run_script``, heartbeating its journal).

    When the activity gives up (out of retries, timed out after its worker died), the workflow
    stops what the script left running — recordings, lives, device calls, sessions, rooms —
    from the journal records it reported, on any worker. Cancelled, the workflow waits while
    the activity stops the script and what it left (or, if that stop fails, stops what the
    activity reports itself).
    """

    @workflow.run
    async def run(self, input: RunScriptInput) -> RunScriptResult:
        """Run the script; returns its value and journal."""
        timeout = timedelta(seconds=input.timeout) + timedelta(minutes=5) if input.timeout else timedelta(hours=6)
        try:
            result: RunScriptResult = await workflow.execute_activity(
                "meetkit.run_script",
                input,
                start_to_close_timeout=timeout,
                heartbeat_timeout=HEARTBEAT_TIMEOUT,
                retry_policy=RETRY_POLICY,
                result_type=RunScriptResult,
                # Cancelled, the activity stops the script and what it left before it ends:
                # the workflow waits for that (or for the heartbeat timeout of a dead worker,
                # whose last heartbeat then names what to stop here).
                cancellation_type=workflow.ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
            )
            return result
        except (ActivityError, asyncio.CancelledError) as e:
            left = _left_running(e)
            if left:
                workflow.logger.warning("the script left %d resource(s) running: stopping them", len(left))
                await asyncio.shield(
                    asyncio.ensure_future(
                        workflow.execute_activity(
                            "meetkit.stop_resources",
                            StopResourcesInput(resources=left, end_rooms=True),
                            start_to_close_timeout=SHORT,
                            retry_policy=COMPENSATION_RETRY_POLICY,
                        )
                    )
                )
            raise
