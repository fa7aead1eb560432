"""Type stubs of the native module ``meetkit._meetkit`` (import ``meetkit`` instead)."""

import os
import pathlib
import types
from typing import Any, Awaitable, Callable, Dict, Iterator, List, Mapping, Optional, Sequence, TypedDict, Union, final

from meetkit._profile import ProfileDict

__all__ = [
    "Client",
    "Vendor",
    "Endpoint",
    "Downloaded",
    "Progress",
    "Event",
    "EventStream",
    "Meeting",
    "Room",
    "Participant",
    "Recording",
    "Simulator",
    "capabilities",
    "run_script",
    "CancelToken",
    "redact",
    "journal_runs",
    "journal_run",
    "cleanup_run",
    "stop_resources",
    "stop_says_gone",
    "__version__",
]

__version__: str

_StrPath = Union[str, "os.PathLike[str]"]
_Params = Optional[Mapping[str, Any]]
_ProgressArg = Union[bool, None, Callable[["Progress"], Optional[bool]]]
_RoomArg = Union["Room", str]
_ParticipantArg = Union["Participant", str]

class _Capability(TypedDict):
    """One row of a capability table: ``endpoints`` and ``note`` when supported, else ``hint``;
    for ``create_room``/``schedule`` the portable ``options`` it uses and those it ``ignored``
    (option -> why)."""

    supported: bool
    endpoints: List[str]
    note: str
    hint: Optional[str]
    options: List[str]
    ignored: Dict[str, str]

@final
class Client:
    """A client for every configured vendor of one profile.

    * ``Client()``: the profile the CLI would use (``MEETKIT_CONFIG`` or ``./meetkit.toml``
      and ``MEETKIT_PROFILE``), else the ``MEETKIT_<VENDOR>_<FIELD>`` variables alone.
    * ``Client("lab", config="meetkit.toml")``: a named profile of a config file.
    * ``Client(profile_dict={"avd": {...}})``: a dict of the profile's shape (no variables applied).
    * ``capture="traffic.har"``: record every request and response of this client (calls and
      their retries, auth calls, download attempts without their bodies, incoming NetEase
      callbacks) into that file as HAR 1.2, every secret (keys, tokens, cookies, signatures,
      PINs, passwords) replaced by ``<redacted>``; the file is valid after every entry.
    * ``journal="runs.db"``: record this client's calls, what each started (rooms, recordings,
      device calls, sessions, ...) and whether it was stopped, and its downloads, in that run
      journal, as one run that ends at ``close()``; ``meetkit runs cleanup ID`` stops what it
      left running if the process dies.
    * ``allow_secrets=True``: results keep their secret fields as the server sent them (AVD's
      ``app.get_token`` token, vmr's session token and ``meet.check_join`` host PIN, NetEase's
      ``accountToken``, Kedacom conference passwords, ...). By default they read ``"***"``;
      meetkit's own authentication always uses the real values.

    Server-side sessions (vmr's session, Kedacom's login) are ended by ``close()``, at the end
    of a ``with`` block, when the client is garbage-collected, or at interpreter exit for a
    client never closed, whichever comes first (each bounded by a few seconds).
    """

    def __new__(
        cls,
        profile: Optional[str] = None,
        *,
        config: Optional[_StrPath] = None,
        profile_dict: Optional[Mapping[str, Any]] = None,
        capture: Optional[_StrPath] = None,
        journal: Optional[_StrPath] = None,
        allow_secrets: bool = False,
    ) -> "Client": ...
    @property
    def profile_name(self) -> str: ...
    @property
    def allow_secrets(self) -> bool:
        """Whether results keep their secret fields (``allow_secrets=True``) rather than ``"***"``."""
    @property
    def capture(self) -> Optional[pathlib.Path]:
        """The HAR file this client writes (``capture=``), or None."""
    @property
    def vendors(self) -> List[str]: ...
    def call(self, vendor: str, endpoint_id: str, params: _Params = None) -> Any:
        """Call one endpoint and return the vendor's payload (dict, list, str, ...)."""
    def acall(self, vendor: str, endpoint_id: str, params: _Params = None) -> Awaitable[Any]:
        """``await client.acall(...)``: the same call, on meetkit's runtime."""
    def vendor(self, name: str) -> "Vendor": ...
    def endpoints(self, vendor: str) -> List["Endpoint"]: ...
    def download(
        self,
        url: str,
        dir: _StrPath,
        *,
        progress: _ProgressArg = ...,  # True
        file_name: Optional[str] = None,
        expected_size: Optional[int] = None,
        expected_md5: Optional[str] = None,
        overwrite: bool = True,
        checksum: bool = True,
    ) -> "Downloaded":
        """Download ``url`` into ``dir``. ``progress``: True (a tqdm bar when installed and
        interactive), False/None, or a callable receiving :class:`Progress` (return False to cancel).
        ``checksum=False`` skips the MD5 check (the size is still checked; ``md5`` is then "")."""
    def events(self, vendor: str, params: _Params = None) -> "EventStream":
        """Events of ``vmr`` (SSE) or ``netease`` (callbacks on ``netease.callback_listen``)."""
    def meeting(self, vendor: str) -> "Meeting":
        """The unified meeting API on one vendor."""
    def close(self) -> None:
        """End every vendor's server-side session now (later calls open new ones)."""
    def __enter__(self) -> "Client": ...
    def __exit__(
        self,
        exc_type: Optional[type],
        exc: Optional[BaseException],
        tb: Optional[types.TracebackType],
    ) -> bool: ...

@final
class Vendor:
    """``client.vendor("avd")``: the calls of one vendor."""

    @property
    def name(self) -> str: ...
    def call(self, endpoint_id: str, params: _Params = None) -> Any: ...
    def acall(self, endpoint_id: str, params: _Params = None) -> Awaitable[Any]: ...
    def endpoints(self) -> List["Endpoint"]: ...

@final
class Endpoint:
    """One row of a vendor's endpoint table."""

    @property
    def vendor(self) -> str: ...
    @property
    def id(self) -> str: ...
    @property
    def method(self) -> str: ...
    @property
    def path(self) -> str: ...
    @property
    def summary(self) -> str: ...
    @property
    def signature(self) -> str: ...
    @property
    def idempotent(self) -> bool: ...
    @property
    def params(self) -> List[Dict[str, Any]]:
        """Dicts with ``name`` (str), ``type`` (str), ``required`` (bool), ``doc`` (str)."""
    @property
    def response(self) -> List[Dict[str, str]]:
        """The fields of a successful response body as the vendor sends it, envelope included:
        dicts with ``path`` (``data[].download_url``; ``""`` for a body that is not JSON),
        ``type`` and ``doc`` (all str)."""

@final
class Downloaded:
    """A completed, verified download."""

    @property
    def path(self) -> pathlib.Path: ...
    @property
    def bytes(self) -> int: ...
    @property
    def md5(self) -> str: ...
    @property
    def resumed(self) -> int: ...

@final
class Progress:
    """A download progress snapshot."""

    @property
    def file_name(self) -> str: ...
    @property
    def downloaded(self) -> int: ...
    @property
    def total(self) -> Optional[int]: ...
    @property
    def resumed(self) -> int: ...

@final
class Event:
    """One vendor event."""

    @property
    def vendor(self) -> str: ...
    @property
    def type(self) -> str:
        """The vendor's event type (``participant_create``, ``MEETING_ROOM_START``, ...)."""
    @property
    def kind(self) -> str:
        """The same as ``type``."""
    @property
    def data(self) -> Any: ...
    @property
    def received_at(self) -> float: ...
    def to_dict(self) -> Dict[str, Any]:
        """``{"vendor", "type", "data", "received_at_ms"}``, as scripts, C and ``meetkit webhook`` show it."""

@final
class EventStream:
    """An iterator over a vendor's events."""

    def __iter__(self) -> Iterator[Event]: ...
    def __next__(self) -> Event: ...
    def close(self) -> None: ...
    def __enter__(self) -> "EventStream": ...
    def __exit__(
        self,
        exc_type: Optional[type],
        exc: Optional[BaseException],
        tb: Optional[types.TracebackType],
    ) -> bool: ...

@final
class Meeting:
    """``client.meeting(vendor)``: the same verbs on every vendor. A verb the vendor cannot do
    raises :class:`meetkit.Unsupported` (with ``hint``) before any request. Every ``room``
    argument is a :class:`Room` or its handle string; ``a...`` methods are awaitables."""

    @property
    def vendor(self) -> str: ...
    def can(self, verb: str) -> bool: ...
    def capabilities(self) -> Dict[str, _Capability]: ...
    def create_room(self, name: Union[str, Mapping[str, Any], None] = None, /, **options: Any) -> "Room":
        """``create_room("Weekly", minutes=30)`` or ``create_room({"name": "Weekly"})``."""
    def acreate_room(
        self, name: Union[str, Mapping[str, Any], None] = None, /, **options: Any
    ) -> Awaitable["Room"]: ...
    def schedule(self, name: Union[str, Mapping[str, Any], None] = None, /, **options: Any) -> "Room":
        """``schedule("Review", start=<Unix seconds or datetime>, minutes=30)``."""
    def aschedule(
        self, name: Union[str, Mapping[str, Any], None] = None, /, **options: Any
    ) -> Awaitable["Room"]: ...
    def start(self, room: _RoomArg) -> None: ...
    def astart(self, room: _RoomArg) -> Awaitable[None]: ...
    def invite(self, room: _RoomArg, address: str, timeout: Optional[float] = None) -> "Participant":
        """Call a device in and wait until it is connected (at most ``timeout`` s; default 60, as in scripts and C)."""
    def ainvite(self, room: _RoomArg, address: str, timeout: Optional[float] = None) -> Awaitable["Participant"]: ...
    def participants(self, room: _RoomArg) -> List["Participant"]: ...
    def aparticipants(self, room: _RoomArg) -> Awaitable[List["Participant"]]: ...
    def mute(self, room: _RoomArg, participant_id: _ParticipantArg) -> None: ...
    def amute(self, room: _RoomArg, participant_id: _ParticipantArg) -> Awaitable[None]: ...
    def unmute(self, room: _RoomArg, participant_id: _ParticipantArg) -> None: ...
    def aunmute(self, room: _RoomArg, participant_id: _ParticipantArg) -> Awaitable[None]: ...
    def start_recording(self, room: _RoomArg) -> Any: ...
    def astart_recording(self, room: _RoomArg) -> Awaitable[Any]: ...
    def stop_recording(self, room: _RoomArg) -> List["Recording"]: ...
    def astop_recording(self, room: _RoomArg) -> Awaitable[List["Recording"]]: ...
    def recordings(self, room: _RoomArg) -> List["Recording"]: ...
    def arecordings(self, room: _RoomArg) -> Awaitable[List["Recording"]]: ...
    def download_recordings(
        self,
        room: _RoomArg,
        dir: _StrPath,
        *,
        progress: _ProgressArg = ...,  # True
        overwrite: bool = True,
        timeout: float = 300.0,
    ) -> List[Downloaded]: ...
    def start_live(self, room: _RoomArg, push_url: str) -> Any: ...
    def astart_live(self, room: _RoomArg, push_url: str) -> Awaitable[Any]: ...
    def stop_live(self, room: _RoomArg) -> None: ...
    def astop_live(self, room: _RoomArg) -> Awaitable[None]: ...
    def end(self, room: _RoomArg) -> None: ...
    def aend(self, room: _RoomArg) -> Awaitable[None]: ...

@final
class Room:
    """A meeting room by handle (``avd:weekly``, ``kedacom:<conf_id>:<meeting_id>``, ...)."""

    @staticmethod
    def from_handle(handle: str) -> "Room": ...
    @property
    def handle(self) -> str: ...
    @property
    def vendor(self) -> str: ...
    @property
    def id(self) -> str: ...
    @property
    def secondary_id(self) -> Optional[str]: ...
    @property
    def name(self) -> Optional[str]: ...
    @property
    def raw(self) -> Any: ...
    def __eq__(self, other: object, /) -> bool: ...
    def __hash__(self) -> int: ...

@final
class Participant:
    """Someone (or some device) in a meeting."""

    @property
    def id(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def muted(self) -> Optional[bool]: ...
    @property
    def raw(self) -> Any: ...

@final
class Recording:
    """One recording file."""

    @property
    def url(self) -> str: ...
    @property
    def file_name(self) -> str: ...
    @property
    def size(self) -> Optional[int]: ...
    @property
    def md5(self) -> Optional[str]: ...
    @property
    def raw(self) -> Any: ...

@final
class Simulator:
    """All four vendor simulators in-process on 127.0.0.1, for use without a vendor account.

    Wired as ``meetkit --sim`` wires them: NetEase callbacks go to the receiver the profile's
    ``netease.callback_listen`` names (a free loopback port), so ``client.events("netease")``
    gets them, and NetEase recordings appear 3 s after a meeting ends.

    * ``strict``: accept only the reading of each ambiguous vendor doc line that meetkit
      sends (default); ``False`` accepts every plausible reading.
    * ``tls``: serve HTTPS with a CA generated at start (the profile's ``transport.ca_cert``).
    * ``host`` (default ``"127.0.0.1"``), ``port_base``: AVD on it, the other servers on the
      next five ports (default: free ports).
    * ``avd``, ``netease``, ``vmr``, ``kedacom``: one dict of options per vendor, e.g.
      ``avd={"invite_delay_ms": 300}``, ``netease={"record_delay_secs": 1,
      "callback_listen": "127.0.0.1:8788"}``, ``vmr={"dial_answer_delay_ms": 100}``,
      ``kedacom={"api_level": 2}`` (the keys of C's ``meetkit_sim_start``, listed in
      ``meetkit.h``). A wrong key or value raises :class:`meetkit.ConfigError` naming it.
    """

    def __new__(
        cls,
        *,
        strict: bool = True,
        tls: bool = False,
        host: Optional[str] = None,
        port_base: Optional[int] = None,
        avd: Optional[Mapping[str, Any]] = None,
        netease: Optional[Mapping[str, Any]] = None,
        vmr: Optional[Mapping[str, Any]] = None,
        kedacom: Optional[Mapping[str, Any]] = None,
    ) -> "Simulator": ...
    @property
    def profile(self) -> ProfileDict: ...
    def client(self, *, capture: Optional[_StrPath] = None, allow_secrets: bool = False) -> Client:
        """A client of this simulator; ``capture``: a HAR file to record its traffic into;
        ``allow_secrets``: results keep their secret fields (else ``"***"``)."""
    @property
    def avd_base_url(self) -> str: ...
    @property
    def kedacom_base_url(self) -> str: ...
    @property
    def vmr_base_url(self) -> str: ...
    @property
    def vmr_mcu_base_url(self) -> str: ...
    @property
    def netease_base_url(self) -> str: ...
    @property
    def running(self) -> bool: ...
    def close(self) -> None: ...
    def __enter__(self) -> "Simulator": ...
    def __exit__(
        self,
        exc_type: Optional[type],
        exc: Optional[BaseException],
        tb: Optional[types.TracebackType],
    ) -> bool: ...

@final
class CancelToken:
    """A switch that cancels a run from another thread or task.

    ``run_script(..., cancel=token)`` stops when ``token.cancel()`` is called, whichever thread
    calls it: the script's on_exit blocks still run, then :class:`meetkit.CancelledError` is
    raised. One token may serve several runs; a cancelled token stays cancelled.
    """

    def __init__(self) -> None: ...
    def cancel(self) -> None:
        """Cancel every run given this token (now, or as soon as it starts)."""
    @property
    def cancelled(self) -> bool:
        """Whether :meth:`cancel` was called."""

def run_script(
    path: _StrPath,
    client: Optional[Client] = None,
    vars: Optional[Mapping[str, Any]] = None,
    out: _StrPath = ...,  # "recordings"
    timeout: Optional[float] = None,
    journal: Union[_StrPath, bool, None] = None,
    max_memory: Union[int, str, None] = None,
    env_allow: Optional[Sequence[str]] = None,
    allow_secrets: Optional[bool] = None,
    cancel: Optional[CancelToken] = None,
) -> Any:
    """Run a Rhai script and return its last value; Ctrl-C cancels it (on_exit blocks still run).

    ``cancel``: a :class:`CancelToken` whose ``cancel()`` stops the run from another thread —
    a run on ``asyncio.to_thread`` cannot see Ctrl-C — raising :class:`meetkit.CancelledError`
    once its on_exit blocks ran.

    ``max_memory`` is the heap memory the run may use in all, ``parallel`` branches included
    (bytes, or a size like ``"256M"``; default 512 MiB): past it the script stops with
    :class:`meetkit.ScriptMemoryError` after its on_exit blocks ran. ``env_allow`` names the
    environment variables the script's ``env()`` may read besides ``MEETKIT_SCRIPT_*``.
    The script sees secret result fields (tokens, passwords, PINs, keys) as ``"***"`` unless
    ``allow_secrets=True`` (``None``: as the client's ``allow_secrets``; a client made here: no).

    The run is recorded in the run journal, as ``meetkit run`` does (``journal=None``: the
    default ``$XDG_STATE_HOME/meetkit/runs.db`` or ``$MEETKIT_JOURNAL``; a path: that file;
    ``False``: none): its calls, what each started and whether it was stopped, its downloads.
    ``meetkit runs list`` / ``meetkit runs cleanup ID`` read it.
    """

def capabilities(vendor: str) -> Dict[str, _Capability]:
    """How ``vendor`` does each verb of the meeting API, keyed by verb name."""

def redact(value: Any) -> Any:
    """A copy of plain data with secret-looking fields replaced by ``"***"``."""

def journal_runs(path: _StrPath) -> List[Dict[str, Any]]:
    """Every run of the journal at ``path``, newest first: dicts with ``id``, ``script``,
    ``profile``, ``profile_source``, ``pid``, ``started_at``, ``ended_at``, ``status``
    (``running``, ``ok``, ``failed``, ``interrupted``), ``error``, ``calls``, ``left_running``.

    Read the journal through these functions, not Python's ``sqlite3``, in a process that uses
    meetkit: two SQLite libraries in one process do not see each other's locks (SIGBUS)."""

def journal_run(path: _StrPath, run_id: str) -> Dict[str, Any]:
    """One run of the journal at ``path``: ``{"run": {...}, "calls": [...], "resources": [...],
    "files": [...]}``. Each resource has ``vendor``, ``kind``, ``start_endpoint``,
    ``stop_endpoint``, ``stop_params``, ``started_at``, ``stopped_at``, ``stopped_by``.
    An unknown id raises :class:`meetkit.ConfigError`."""

def cleanup_run(
    client: Client, path: _StrPath, run_id: str, *, end_rooms: bool = False, dry_run: bool = False
) -> List[Dict[str, Any]]:
    """Stop what run ``run_id`` left running, through ``client`` (``meetkit runs cleanup``):
    one dict per resource with ``resource``, ``outcome`` (``stopped``, ``already_stopped``,
    ``failed``, ``kept`` — a room without ``end_rooms`` —, ``would_stop`` with ``dry_run``)
    and ``detail``. Idempotent; a run whose process is still alive is refused."""

def stop_resources(
    client: Client, resources: Sequence[Mapping[str, Any]], *, end_rooms: bool = False, dry_run: bool = False
) -> List[Dict[str, Any]]:
    """Stop ``resources`` (dicts of :func:`journal_run`'s ``resources`` shape, e.g. carried from
    another process in a Temporal heartbeat) through ``client``, as :func:`cleanup_run` does;
    records with ``stopped_at`` set are skipped. Returns the same step dicts."""

def stop_says_gone(vendor: str, endpoint: str, code: str) -> bool:
    """Whether ``code``, answered by ``vendor``'s stopping ``endpoint``, means there was
    nothing (left) to stop (the vendor's lifecycle table): a repeated stop is then done."""
