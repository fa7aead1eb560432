"""meetkit's Temporal activities, over one shared :class:`meetkit.Client` per worker.

:class:`MeetkitActivities` holds the worker's client (thread-safe, its vendor sessions and
tokens shared by every activity), one :class:`meetkit.Meeting` per vendor, the folder files
are downloaded into and the folder of the scripts' run journals. Its methods are the
activities (``meetkit.call``, ``meetkit.create_room``, ... ``meetkit.run_script``); register
them all with ``Worker(activities=MeetkitActivities(client, out).all())``.

Idempotence by checking. A create or start whose answer was lost may have happened, so an
activity that creates or starts looks first, on every attempt after the first:

* ``create_room`` / ``schedule``: the room of the previous attempt from its heartbeat, else the
  room by the key (the workflow id unless given): AVD rooms are created with the key as their
  id and read back by it (``room.read``); NetEase meetings and Kedacom conferences are named
  after the key and found by name among the running ones (``meeting.list`` /
  ``meetings.list``, first 100); vmr's room is the account's own (``meet.check_join`` is safe
  to repeat).
* ``invite``: the room's participants (where the vendor lists them): a participant of that
  address is the one an earlier attempt called in.
* ``start_recording``: the previous attempt's answer from its heartbeat; then the vendor
  itself: a start answered "already recording" (AVD 40040, vmr 200003) means an earlier
  attempt started it, and counts as started.

Stops (``stop_recording``, ``end``, ``compensate``, ``stop_resources``) are safe to repeat: an
answer that says there was nothing (left) to stop (the lifecycle table's codes,
``meetkit.stop_says_gone``) counts as done.

Long activities (``invite``, ``download_recordings``, ``run_script``) heartbeat every
``heartbeat_every`` seconds, so a worker that dies is noticed within the heartbeat timeout and
the activity is retried on another worker. ``run_script`` heartbeats its journal: what the
script has started and not stopped, so a retry (on any worker) stops that first, and the
``RunScript`` workflow's compensation knows what to stop when it gives up.
"""

from __future__ import annotations

import asyncio
import re
import time
from pathlib import Path
from typing import Any, Awaitable, Callable, Dict, List, Optional, Sequence, Tuple, TypeVar

from temporalio import activity
from temporalio.exceptions import ApplicationError

import meetkit
from meetkit.errors import ApiError, ConfigError, MeetkitError
from meetkit.temporal.retry import application_error
from meetkit.temporal.types import (
    CallInput,
    CompensateInput,
    CreateRoomInput,
    DownloadedFile,
    DownloadInput,
    InviteInput,
    LiveInput,
    ParticipantInput,
    RoomInput,
    RunScriptInput,
    RunScriptResult,
    StopResourcesInput,
)

__all__ = ["MeetkitActivities", "ALREADY_RECORDING", "safe_key"]

T = TypeVar("T")

#: Codes with which a vendor refuses a second start of a recording in the same room (AVD
#: appendix 40040 "room already has mix_record or mix_live"; vmr 002's 200003 "recording is
#: already on"): an earlier attempt's start took effect.
ALREADY_RECORDING: Dict[str, Tuple[str, ...]] = {"avd": ("40040",), "vmr": ("200003",)}


def safe_key(text: str) -> str:
    """``text`` as a room id or file name: letters, digits, ``-`` and ``_`` (others become
    ``-``), at most 64 characters."""
    cleaned = re.sub(r"[^A-Za-z0-9_-]+", "-", text).strip("-")
    return (cleaned or "meetkit")[:64]


def _handle_part(text: str) -> str:
    """One id inside a room handle (``%`` and ``:`` percent-encoded, as meetkit writes them)."""
    return text.replace("%", "%25").replace(":", "%3A")


def _participant(p: meetkit.Participant) -> Dict[str, Any]:
    return {"id": p.id, "name": p.name, "muted": p.muted}


def _recording(r: meetkit.Recording) -> Dict[str, Any]:
    return {"url": r.url, "file_name": r.file_name, "size": r.size, "md5": r.md5}


def _previous(key: str) -> Any:
    """The value under ``key`` of the last heartbeat of this activity's earlier attempt."""
    for detail in activity.info().heartbeat_details:
        if isinstance(detail, dict) and key in detail:
            return detail[key]
    return None


class MeetkitActivities:
    """The activities of one worker, sharing ``client``.

    ``out``: the folder recordings and script files are written under (one subfolder per
    workflow); ``state``: where each ``run_script`` attempt keeps its run journal (default
    ``out/.meetkit-journals``); ``heartbeat_every``: seconds between heartbeats of the long
    activities (keep it well under the heartbeat timeout the workflows use, 10 s).
    """

    def __init__(
        self,
        client: meetkit.Client,
        out: "str | Path",
        *,
        state: "str | Path | None" = None,
        heartbeat_every: float = 2.0,
    ) -> None:
        self.client = client
        self.out = Path(out)
        self.state = Path(state) if state is not None else self.out / ".meetkit-journals"
        self.heartbeat_every = heartbeat_every
        self._meetings: Dict[str, meetkit.Meeting] = {}
        self._idempotent: Dict[Tuple[str, str], bool] = {}

    def all(self) -> List[Callable[..., Any]]:
        """Every activity, for ``Worker(activities=...)``."""
        return [
            self.call,
            self.capabilities,
            self.create_room,
            self.schedule,
            self.start,
            self.invite,
            self.participants,
            self.mute,
            self.unmute,
            self.start_recording,
            self.stop_recording,
            self.recordings,
            self.download_recordings,
            self.start_live,
            self.stop_live,
            self.end,
            self.compensate,
            self.run_script,
            self.stop_resources,
        ]

    # -- helpers ---------------------------------------------------------------------------

    def _meeting(self, vendor: str) -> meetkit.Meeting:
        """The worker's one Meeting of ``vendor`` (it remembers vmr's recording ids)."""
        m = self._meetings.get(vendor)
        if m is None:
            m = self.client.meeting(vendor)
            self._meetings[vendor] = m
        return m

    async def _beating(self, work: "Awaitable[T]", *details: Any) -> T:
        """Await ``work``, heartbeating ``details`` every ``heartbeat_every`` seconds; a
        cancelled activity cancels ``work``."""
        task = asyncio.ensure_future(work)
        try:
            while True:
                done, _ = await asyncio.wait({task}, timeout=self.heartbeat_every)
                if done:
                    return task.result()
                activity.heartbeat(*details)
        except BaseException:
            task.cancel()
            raise

    def _dir(self, subdir: str) -> Path:
        """``out/<subdir>`` (default: the workflow id, made safe), never outside ``out``."""
        name = safe_key(subdir or activity.info().workflow_id or activity.info().activity_id)
        return self.out / name

    @staticmethod
    def _gone(error: MeetkitError) -> bool:
        """Whether a stop's error says there was nothing (left) to stop."""
        code = getattr(error, "code", "")
        return bool(
            isinstance(error, ApiError)
            and error.vendor
            and error.endpoint
            and code
            and meetkit.stop_says_gone(error.vendor, error.endpoint, code)
        )

    async def _room_verb(
        self, handle: str, verb: str, *args: Any, gone_is_done: bool = False, idempotent: bool = True
    ) -> Any:
        """The async form of meeting verb ``verb`` on the room ``handle``, meetkit's errors as
        application errors; ``gone_is_done``: a stop answered "nothing to stop" returns None."""
        room = meetkit.Room.from_handle(handle)
        method = getattr(self._meeting(room.vendor), "a" + verb)
        try:
            return await method(room, *args)
        except MeetkitError as e:
            if gone_is_done and self._gone(e):
                return None
            raise application_error(e, idempotent=idempotent) from e

    # -- calls -----------------------------------------------------------------------------

    @activity.defn(name="meetkit.call")
    async def call(self, input: CallInput) -> Any:
        """One endpoint call. Retried where meetkit says it may succeed later and repeating
        it is safe (reads and set-state calls; a create or start only if it never reached
        the server or the server refused it)."""
        key = (input.vendor, input.endpoint)
        if key not in self._idempotent:
            try:
                specs = self.client.endpoints(input.vendor)
            except MeetkitError as e:
                raise application_error(e) from e
            for spec in specs:
                self._idempotent[(input.vendor, spec.id)] = spec.idempotent
        try:
            return await self.client.acall(input.vendor, input.endpoint, input.params)
        except MeetkitError as e:
            raise application_error(e, idempotent=self._idempotent.get(key, False)) from e

    @activity.defn(name="meetkit.capabilities")
    async def capabilities(self, vendor: str) -> Dict[str, bool]:
        """Which verbs ``vendor`` supports (verb name → bool); workflows branch on it."""
        try:
            return {verb: cap["supported"] for verb, cap in meetkit.capabilities(vendor).items()}
        except MeetkitError as e:
            raise application_error(e) from e

    # -- rooms -----------------------------------------------------------------------------

    async def _find_room(self, vendor: str, name: str, options: Dict[str, Any]) -> Optional[str]:
        """The handle of the room an earlier attempt created, if the vendor shows one."""
        if vendor == "avd":
            try:
                await self.client.acall("avd", "room.read", {"room_id": options["id"]})
            except ApiError as e:
                if e.code == "40004":  # no such room
                    return None
                raise
            return f"avd:{_handle_part(str(options['id']))}"
        if vendor == "netease":
            listed = await self.client.acall("netease", "meeting.list", {"statusList": [1, 2], "pageSize": 100})
            for m in listed.get("meetingList") or []:
                if m.get("subject") == name:
                    return f"netease:{_handle_part(str(m['meetingUniqueId']))}:{_handle_part(str(m['meetingId']))}"
            return None
        if vendor == "kedacom":
            listed = await self.client.acall("kedacom", "meetings.list", {"state": 2, "count": 100})
            for m in listed.get("meetings") or []:
                if m.get("name") == name:
                    return f"kedacom:{_handle_part(str(m['conf_id']))}:{_handle_part(str(m['meeting_id']))}"
            return None
        return None  # vmr: create_room returns the account's room; repeating it is safe

    async def _create(self, input: CreateRoomInput, verb: str) -> str:
        previous = _previous("handle")
        if isinstance(previous, str):
            return previous
        key = input.key or activity.info().workflow_id or activity.info().activity_id
        options = dict(input.options)
        if input.vendor == "avd" and "id" not in options:
            options["id"] = safe_key(key)
        m = self._meeting(input.vendor)
        try:
            if activity.info().attempt > 1:
                found = await self._find_room(input.vendor, input.name, options)
                if found is not None:
                    activity.heartbeat({"handle": found})
                    return found
            activity.heartbeat({"creating": key})
            create = m.acreate_room if verb == "create_room" else m.aschedule
            room = await create(input.name, **options)
        except MeetkitError as e:
            raise application_error(e, idempotent=False, checked=True) from e
        activity.heartbeat({"handle": room.handle})
        return room.handle

    @activity.defn(name="meetkit.create_room")
    async def create_room(self, input: CreateRoomInput) -> str:
        """Create a room; returns its handle. Idempotent by checking (see the module doc)."""
        return await self._create(input, "create_room")

    @activity.defn(name="meetkit.schedule")
    async def schedule(self, input: CreateRoomInput) -> str:
        """Book a room (``options``: ``start``, ``minutes``, ...); returns its handle.
        Idempotent by checking, as ``create_room``."""
        return await self._create(input, "schedule")

    @activity.defn(name="meetkit.start")
    async def start(self, input: RoomInput) -> None:
        """Start a booked room (safe to repeat: starting a started room changes nothing)."""
        await self._room_verb(input.handle, "start")

    @activity.defn(name="meetkit.end")
    async def end(self, input: RoomInput) -> None:
        """End a room; a room already ended (the vendor says so) is done."""
        await self._room_verb(input.handle, "end", gone_is_done=True)

    # -- participants ----------------------------------------------------------------------

    @activity.defn(name="meetkit.invite")
    async def invite(self, input: InviteInput) -> str:
        """Call a device in and wait until it joined; returns its participant id. A retry
        first looks for a participant of that address (where the vendor lists them)."""
        room = meetkit.Room.from_handle(input.handle)
        m = self._meeting(room.vendor)
        try:
            if activity.info().attempt > 1 and m.can("participants"):
                for p in await m.aparticipants(room):
                    if p.name == input.address:
                        return p.id
            joined = await self._beating(m.ainvite(room, input.address, input.timeout), {"inviting": input.address})
        except MeetkitError as e:
            raise application_error(e, idempotent=False, checked=True) from e
        return joined.id

    @activity.defn(name="meetkit.participants")
    async def participants(self, input: RoomInput) -> List[Dict[str, Any]]:
        """The room's participants as dicts (``id``, ``name``, ``muted``)."""
        return [_participant(p) for p in await self._room_verb(input.handle, "participants")]

    @activity.defn(name="meetkit.mute")
    async def mute(self, input: ParticipantInput) -> None:
        """Mute one participant (safe to repeat)."""
        await self._room_verb(input.handle, "mute", input.participant_id)

    @activity.defn(name="meetkit.unmute")
    async def unmute(self, input: ParticipantInput) -> None:
        """Unmute one participant (safe to repeat)."""
        await self._room_verb(input.handle, "unmute", input.participant_id)

    # -- recordings ------------------------------------------------------------------------

    @activity.defn(name="meetkit.start_recording")
    async def start_recording(self, input: RoomInput) -> Any:
        """Start recording; returns the vendor's answer (its recording id). Idempotent by
        checking: the previous attempt's answer, then the vendor's "already recording"."""
        previous = _previous("started")
        if previous is not None:
            return previous
        room = meetkit.Room.from_handle(input.handle)
        try:
            started = await self._meeting(room.vendor).astart_recording(room)
        except ApiError as e:
            if e.code in ALREADY_RECORDING.get(room.vendor, ()):
                activity.logger.info("%s: recording already running (%s): an earlier attempt started it", input.handle, e.code)
                return {"already_recording": True}
            raise application_error(e, idempotent=False, checked=True) from e
        except MeetkitError as e:
            raise application_error(e, idempotent=False, checked=True) from e
        activity.heartbeat({"started": started})
        return started

    @activity.defn(name="meetkit.stop_recording")
    async def stop_recording(self, input: RoomInput) -> List[Dict[str, Any]]:
        """Stop recording; returns the files the vendor reports (``url``, ``file_name``,
        ``size``, ``md5``). A recording already stopped is done (no files reported)."""
        stopped = await self._room_verb(input.handle, "stop_recording", gone_is_done=True)
        return [_recording(r) for r in stopped or []]

    @activity.defn(name="meetkit.recordings")
    async def recordings(self, input: RoomInput) -> List[Dict[str, Any]]:
        """The room's recording files (``url``, ``file_name``, ``size``, ``md5``)."""
        return [_recording(r) for r in await self._room_verb(input.handle, "recordings")]

    def _download_by_record_ids(self, record_ids: Sequence[str], folder: Path) -> List[meetkit.Downloaded]:
        """vmr on a worker whose Meeting did not start the recording: list each recording's
        files by its id (``record.files``) and download them, size-checked."""
        files: List[meetkit.Downloaded] = []
        for record_id in record_ids:
            for f in self.client.call("vmr", "record.files", {"recordId": record_id}) or []:
                size = f.get("fileSize")
                files.append(
                    self.client.download(
                        f["downUrl"], folder, progress=False, expected_size=int(size) if size is not None else None
                    )
                )
        return files

    def _download(self, input: DownloadInput, folder: Path) -> List[meetkit.Downloaded]:
        room = meetkit.Room.from_handle(input.handle)
        m = self._meeting(room.vendor)
        deadline = time.monotonic() + input.wait_seconds
        while True:
            try:
                listed = m.recordings(room)
            except ConfigError:
                # vmr lists files by the ids record.open returned; this worker's Meeting did
                # not start the recording (another worker did): use the workflow's ids.
                if room.vendor == "vmr" and input.record_ids:
                    listed = None
                else:
                    raise
            if listed is None:
                files = self._download_by_record_ids(input.record_ids, folder)
                if files or time.monotonic() >= deadline:
                    return files
            elif listed or time.monotonic() >= deadline:
                return m.download_recordings(room, folder, progress=False)
            time.sleep(1.0)

    @activity.defn(name="meetkit.download_recordings")
    async def download_recordings(self, input: DownloadInput) -> List[DownloadedFile]:
        """Wait (at most ``wait_seconds``) until the room's recordings are listed, then
        download every one into ``out/<subdir>``, verified; heartbeats meanwhile. A retry
        downloads again (each file is written whole or not at all)."""
        folder = self._dir(input.subdir)
        try:
            got = await self._beating(asyncio.to_thread(self._download, input, folder), {"downloading": str(folder)})
        except MeetkitError as e:
            raise application_error(e) from e
        return [DownloadedFile(path=str(d.path), bytes=d.bytes, md5=d.md5) for d in got]

    # -- live ------------------------------------------------------------------------------

    @activity.defn(name="meetkit.start_live")
    async def start_live(self, input: LiveInput) -> Any:
        """Start a live stream to ``push_url`` (a start: never retried blindly)."""
        return await self._room_verb(input.handle, "start_live", input.push_url, idempotent=False)

    @activity.defn(name="meetkit.stop_live")
    async def stop_live(self, input: RoomInput) -> None:
        """Stop the live stream; one already stopped is done."""
        await self._room_verb(input.handle, "stop_live", gone_is_done=True)

    # -- compensation ----------------------------------------------------------------------

    @activity.defn(name="meetkit.compensate")
    async def compensate(self, input: CompensateInput) -> List[str]:
        """Undo a room: stop its recording (where the vendor can), then end it; each step
        that finds nothing to stop counts as done. Runs on any worker: it needs only the
        handle. Returns the steps done (``stop_recording``, ``end``)."""
        room = meetkit.Room.from_handle(input.handle)
        done: List[str] = []
        if input.recording and self._meeting(room.vendor).can("stop_recording"):
            await self._room_verb(input.handle, "stop_recording", gone_is_done=True)
            done.append("stop_recording")
        if input.end_room:
            await self._room_verb(input.handle, "end", gone_is_done=True)
            done.append("end")
        return done

    @activity.defn(name="meetkit.stop_resources")
    async def stop_resources(self, input: StopResourcesInput) -> List[Dict[str, Any]]:
        """Stop journal resource records (from a ``run_script`` heartbeat or failure), rooms
        too unless ``end_rooms`` is False. A stop that failed fails the activity (retried)."""
        try:
            steps = await asyncio.to_thread(
                meetkit.stop_resources, self.client, input.resources, end_rooms=input.end_rooms
            )
        except MeetkitError as e:
            raise application_error(e) from e
        failed = [s for s in steps if s["outcome"] == "failed"]
        if failed:
            text = "; ".join(f"{s['resource']['vendor']} {s['resource']['stop_endpoint']}: {s['detail']}" for s in failed)
            raise ApplicationError(f"could not stop {len(failed)} resource(s): {text}", steps, type="StopFailed")
        return list(steps)

    # -- scripts ---------------------------------------------------------------------------

    def _open_resources(self, journal: Path) -> Tuple[str, List[Dict[str, Any]]]:
        """The run id of the (only) run of ``journal`` and what it has not stopped."""
        if not journal.exists():
            return "", []
        runs = meetkit.journal_runs(journal)
        if not runs:
            return "", []
        run_id = str(runs[0]["id"])
        detail = meetkit.journal_run(journal, run_id)
        return run_id, [r for r in detail["resources"] if r.get("stopped_at") is None]

    @activity.defn(name="meetkit.run_script")
    async def run_script(self, input: RunScriptInput) -> RunScriptResult:
        """Run a whole Rhai script, heartbeating its journal (what it started and has not
        stopped). A retry first stops what the previous attempt left running (from that
        heartbeat, on whichever worker this runs). A failure carries the resources left
        running in its details (``left_running``) for the workflow's compensation.

        Cancelled (the workflow was cancelled, or gave up on it), the activity cancels the
        script itself: its on_exit blocks run, then the activity stops what the journal still
        shows running before it reports the cancellation, since a cancellation carries no details
        for the workflow to compensate from. If that stop fails, it fails with ``StopFailed``
        and the resources in ``left_running`` instead."""
        info = activity.info()
        left = _previous("left_running")
        if left:
            activity.logger.info("attempt %d: stopping %d resource(s) the previous attempt left", info.attempt, len(left))
            steps = await asyncio.to_thread(meetkit.stop_resources, self.client, left, end_rooms=True)
            if any(s["outcome"] == "failed" for s in steps):
                raise ApplicationError(
                    "could not stop what the previous attempt left running; not running the script again",
                    {"left_running": left, "steps": steps},
                    type="StopFailed",
                )
        self.state.mkdir(parents=True, exist_ok=True)
        name = f"{safe_key(info.workflow_id or 'standalone')}-{safe_key(info.activity_id)}-{info.attempt}"
        journal = self.state / f"{name}.db"
        if input.source:
            script = self.state / f"{name}.rhai"
            script.write_text(input.source)
        elif input.path:
            script = Path(input.path)
        else:
            raise ApplicationError("run_script: give `source` (the script text) or `path`", type="InvalidParams", non_retryable=True)
        # arun_script: cancelling the task cancels the script and ends only after its on_exit blocks.
        work = meetkit.arun_script(
            script,
            self.client,
            vars=input.vars,
            out=self._dir(input.subdir),
            timeout=input.timeout,
            journal=journal,
            max_memory=input.max_memory,
        )
        task = asyncio.ensure_future(work)
        run_id = ""
        open_now: List[Dict[str, Any]] = []

        async def beat_until_done() -> None:
            nonlocal run_id, open_now
            while True:
                done, _ = await asyncio.wait({task}, timeout=self.heartbeat_every)
                run_id, open_now = await asyncio.to_thread(self._open_resources, journal)
                activity.heartbeat({"journal": str(journal), "run_id": run_id, "left_running": open_now})
                if done:
                    return

        try:
            await beat_until_done()
        except asyncio.CancelledError:
            # The script thread would go on after the activity is gone: stop it, let its
            # on_exit blocks run (still heartbeating), then stop what it left.
            activity.logger.info("cancelled: stopping the script (%s)", journal)
            task.cancel()
            await beat_until_done()
            if open_now:
                # Through the journal, which then records each stop.
                steps = await asyncio.to_thread(meetkit.cleanup_run, self.client, journal, run_id, end_rooms=True)
                if any(s["outcome"] == "failed" for s in steps):
                    left = [s["resource"] for s in steps if s["outcome"] == "failed"]
                    raise ApplicationError(
                        "cancelled; could not stop what the script left running",
                        {"left_running": left, "steps": steps},
                        type="StopFailed",
                    )
            raise
        try:
            value = task.result()
        except MeetkitError as e:
            # Retried like a checked start: the next attempt stops what this one left first.
            raise application_error(
                e, idempotent=False, checked=True, journal=str(journal), run_id=run_id, left_running=open_now
            ) from e
        return RunScriptResult(value=value, journal=str(journal), run_id=run_id, left_running=open_now)

