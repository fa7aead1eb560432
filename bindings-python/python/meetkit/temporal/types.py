"""The inputs and results of meetkit's Temporal activities and workflows.

Plain dataclasses of JSON-friendly values, so Temporal's default data converter carries them
and the workflow sandbox can import this module (it imports nothing native). Rooms travel
between activities as their handles (``avd:weekly``, ``netease:<uid>:<id>``, ...).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

__all__ = [
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


@dataclass
class CallInput:
    """One endpoint call: ``vendor``, endpoint id and parameters (as ``Client.call``)."""

    vendor: str
    endpoint: str
    params: Optional[Dict[str, Any]] = None


@dataclass
class CreateRoomInput:
    """``create_room`` / ``schedule``: the room's ``name`` and vendor options.

    ``key`` makes the create idempotent: where the vendor lets the caller choose the room id
    (AVD) it is the id; elsewhere the room is found again by ``name``. Empty: the workflow id.
    """

    vendor: str
    name: str
    options: Dict[str, Any] = field(default_factory=dict)
    key: str = ""


@dataclass
class RoomInput:
    """A room, by handle."""

    handle: str


@dataclass
class InviteInput:
    """Call ``address`` (``sip:...``, ``h323:...``) into a room; wait at most ``timeout`` s."""

    handle: str
    address: str
    timeout: float = 30.0


@dataclass
class ParticipantInput:
    """One participant of a room (``mute`` / ``unmute``)."""

    handle: str
    participant_id: str


@dataclass
class LiveInput:
    """A live stream of a room to ``push_url``."""

    handle: str
    push_url: str


@dataclass
class DownloadInput:
    """Download a room's recordings into ``subdir`` of the worker's output folder.

    ``record_ids`` are the ids ``start_recording`` returned (vmr lists files only by them);
    ``wait_seconds`` is how long to wait for the vendor to publish the files (NetEase
    publishes them after the meeting ended).
    """

    handle: str
    subdir: str = ""
    record_ids: List[str] = field(default_factory=list)
    wait_seconds: float = 180.0


@dataclass
class DownloadedFile:
    """A verified file on the worker that downloaded it."""

    path: str
    bytes: int
    md5: str


@dataclass
class CompensateInput:
    """What to undo in a room: stop its recording (``recording``) and end it (``end_room``)."""

    handle: str
    recording: bool = True
    end_room: bool = True


@dataclass
class RunScriptInput:
    """A whole Rhai script as one activity: ``source`` (its text) or ``path`` (a file on the
    worker), with ``vars``; files go to ``subdir`` of the worker's output folder."""

    source: str = ""
    path: str = ""
    vars: Dict[str, Any] = field(default_factory=dict)
    subdir: str = ""
    timeout: Optional[float] = None
    max_memory: Optional[str] = None


@dataclass
class RunScriptResult:
    """The script's last value, its run journal (on the worker) and what it left running."""

    value: Any
    journal: str
    run_id: str
    left_running: List[Dict[str, Any]] = field(default_factory=list)


@dataclass
class StopResourcesInput:
    """Journal resource records to stop (``meetkit.stop_resources``)."""

    resources: List[Dict[str, Any]]
    end_rooms: bool = True


@dataclass
class RecordMeetingInput:
    """The ``RecordMeeting`` workflow: create a room on ``vendor`` (with ``room_options``),
    call ``device`` in (empty: nobody), record for ``duration`` seconds (a durable timer),
    stop, end, download into ``subdir`` (empty: the workflow id)."""

    vendor: str
    duration: float
    name: str = ""
    room_options: Dict[str, Any] = field(default_factory=dict)
    device: str = "sip:1001@10.0.0.5"
    subdir: str = ""
    recordings_timeout: float = 180.0


@dataclass
class RecordMeetingResult:
    """What a ``RecordMeeting`` run did: the room, the device's participant id, the recording
    ids, the files downloaded (on the worker that downloaded them) and the steps the vendor
    cannot do (``invite``, ``start_recording``, ``download_recordings``)."""

    vendor: str
    room: str
    participant: Optional[str]
    record_ids: List[str]
    files: List[DownloadedFile]
    skipped: List[str]
