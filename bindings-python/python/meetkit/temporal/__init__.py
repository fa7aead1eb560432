"""meetkit workflows as durable Temporal workflows (``pip install "meetkit[temporal]"``).

One machine running ``meetkit run`` cannot outlive itself; Temporal can. This package gives
Temporal the pieces:

* activities over one shared :class:`meetkit.Client` per worker
  (:class:`~meetkit.temporal.activities.MeetkitActivities`): ``meetkit.call``, each unified
  meeting verb, ``meetkit.download_recordings``, ``meetkit.run_script`` (a whole Rhai script,
  heartbeating its journal), ``meetkit.compensate`` and ``meetkit.stop_resources``;
* retry policies from meetkit's own error classes (:mod:`meetkit.temporal.retry`);
* the ``RecordMeeting`` workflow (create → invite → record → durable timer → stop → end →
  download, compensated on failure by any worker) and ``RunScript``;
* ``python -m meetkit.temporal worker`` and ``python -m meetkit.temporal record-meeting``.

::

    temporal = await temporalio.client.Client.connect("localhost:7233")
    async with new_worker(temporal, meetkit.Client("lab"), out="recordings"):
        result = await temporal.execute_workflow(
            RecordMeeting.run, RecordMeetingInput(vendor="avd", duration=60),
            id="weekly-2025-06-02", task_queue=DEFAULT_TASK_QUEUE)

How the journal, retries and compensation fit together: ``docs/scale-out.md``.
"""

from meetkit.temporal.activities import ALREADY_RECORDING, MeetkitActivities, safe_key
from meetkit.temporal.retry import COMPENSATION_RETRY_POLICY, NON_RETRYABLE_TYPES, RETRY_POLICY, application_error
from meetkit.temporal.types import (
    CallInput,
    CompensateInput,
    CreateRoomInput,
    DownloadedFile,
    DownloadInput,
    InviteInput,
    LiveInput,
    ParticipantInput,
    RecordMeetingInput,
    RecordMeetingResult,
    RoomInput,
    RunScriptInput,
    RunScriptResult,
    StopResourcesInput,
)
from meetkit.temporal.worker import DEFAULT_TASK_QUEUE, new_worker
from meetkit.temporal.workflows import HEARTBEAT_TIMEOUT, RecordMeeting, RunScript

__all__ = [
    "MeetkitActivities",
    "RecordMeeting",
    "RunScript",
    "new_worker",
    "DEFAULT_TASK_QUEUE",
    "HEARTBEAT_TIMEOUT",
    "RETRY_POLICY",
    "COMPENSATION_RETRY_POLICY",
    "NON_RETRYABLE_TYPES",
    "ALREADY_RECORDING",
    "application_error",
    "safe_key",
    "CallInput",
    "CreateRoomInput",
    "RoomInput",
    "InviteInput",
    "ParticipantInput",
    "LiveInput",
    "DownloadInput",
    "DownloadedFile",
    "CompensateInput",
    "RunScriptInput",
    "RunScriptResult",
    "StopResourcesInput",
    "RecordMeetingInput",
    "RecordMeetingResult",
]
