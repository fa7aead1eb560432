"""meetkit: one client for four video-conferencing vendors' server APIs
(3tee AVD ``avd``, Kedacom ``kedacom``, vmr cloud ``vmr``, NetEase Meeting ``netease``),
their simulators, and the Rhai workflow runtime.

>>> import meetkit
>>> with meetkit.Simulator() as sim, sim.client() as client:
...     room = client.call("avd", "room.create", {"room_id": "weekly", "user_id": "ops"})
...     meeting = client.meeting("vmr")  # the same verbs on every vendor
...     handle = meeting.create_room("Weekly").handle
"""

from meetkit.errors import (
    ApiError,
    AuthError,
    CancelledError,
    ConfigError,
    DecodeError,
    HttpError,
    IntegrityError,
    InvalidParams,
    IoError,
    MeetkitError,
    ScriptError,
    ScriptTimeoutError,
    ScriptMemoryError,
    TimeoutError,
    OutcomeUnknownError,
    TransportError,
    UnknownEndpoint,
    Unsupported,
)
from meetkit._meetkit import (
    Client,
    Downloaded,
    Endpoint,
    Event,
    EventStream,
    Meeting,
    Participant,
    Progress,
    Recording,
    Room,
    Simulator,
    Vendor,
    __version__,
    capabilities,
    run_script,
)
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
    "capabilities",
    "Simulator",
    "ProfileDict",
    "run_script",
    "__version__",
    "MeetkitError",
    "ConfigError",
    "Unsupported",
    "InvalidParams",
    "UnknownEndpoint",
    "TransportError",
    "TimeoutError",
    "OutcomeUnknownError",
    "ApiError",
    "HttpError",
    "AuthError",
    "DecodeError",
    "ScriptError",
    "ScriptTimeoutError",
    "ScriptMemoryError",
    "CancelledError",
    "IntegrityError",
    "IoError",
]
