"""Build a Temporal worker that runs meetkit's workflows and activities."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Union

from temporalio.client import Client as TemporalClient
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

import meetkit
from meetkit.temporal.activities import MeetkitActivities
from meetkit.temporal.workflows import RecordMeeting, RunScript

__all__ = ["DEFAULT_TASK_QUEUE", "new_worker"]

#: The task queue of ``python -m meetkit.temporal`` unless ``--task-queue`` says otherwise.
DEFAULT_TASK_QUEUE = "meetkit"


def new_worker(
    temporal: TemporalClient,
    client: meetkit.Client,
    *,
    task_queue: str = DEFAULT_TASK_QUEUE,
    out: Union[str, Path] = "recordings",
    state: Union[str, Path, None] = None,
    max_concurrent_activities: int = 200,
    max_concurrent_workflow_tasks: int = 100,
    sticky_queue_timeout: timedelta = timedelta(seconds=10),
) -> Worker:
    """A worker of ``task_queue`` running ``RecordMeeting``, ``RunScript`` and every meetkit
    activity over ``client`` (shared by all of them); files go under ``out``.

    meetkit (a native module) is passed through the workflow sandbox rather than re-imported;
    the workflows themselves make no vendor request. ``sticky_queue_timeout``: how long a
    workflow task waits for this worker before another worker may take it (the SDK's
    default, 10 s): after a crash, the workflows this worker had cached move on that much later.
    """
    activities = MeetkitActivities(client, out, state=state)
    restrictions = SandboxRestrictions.default.with_passthrough_modules("meetkit")
    return Worker(
        temporal,
        task_queue=task_queue,
        workflows=[RecordMeeting, RunScript],
        activities=activities.all(),
        workflow_runner=SandboxedWorkflowRunner(restrictions=restrictions),
        max_concurrent_activities=max_concurrent_activities,
        max_concurrent_workflow_tasks=max_concurrent_workflow_tasks,
        sticky_queue_schedule_to_start_timeout=sticky_queue_timeout,
    )
