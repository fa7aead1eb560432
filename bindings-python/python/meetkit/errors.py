"""The exceptions meetkit raises.

Every one is a :class:`MeetkitError`; its message is the text the ``meetkit`` CLI
prints for the same failure. The attributes carry the details as data.

=================  ==================================  ==========================================
class              raised when                         attributes (besides kind, retryable,
                                                       vendor, endpoint)
=================  ==================================  ==========================================
ConfigError        profile/config missing or invalid
Unsupported        (a ConfigError) the build lacks it
InvalidParams      parameters fail the endpoint table  param, reason
UnknownEndpoint    (an InvalidParams) unknown id       suggestions
TransportError     the request could not be delivered  before_send
TimeoutError       no answer in time (also builtin)    after (seconds)
OutcomeUnknownError a create/start was sent, its answer message (never retried: look the
                   lost: the server may have done it   object up before trying again)
ApiError           the vendor answered with an error   code, message, meaning, request_id
HttpError          (an ApiError) bare HTTP error       status (code is its text, message the body)
AuthError          credentials refused                 message
DecodeError        an undocumented response shape
ScriptError        a Rhai script failed                message, file, line, column
ScriptTimeoutError (a ScriptError) its time limit       after (seconds), file, line, column
ScriptMemoryError  (a ScriptError) its memory budget    limit, used (bytes), file, line, column
=================  ==================================  ==========================================

An error a script raises and does not catch keeps its class (an uncaught vendor error from
``run_script`` is an :class:`ApiError`, bad credentials an :class:`AuthError`), with the
script position in ``file``, ``line`` and ``column`` as well.

=================  ==================================  ==========================================
CancelledError     cancelled (progress callback, ...)  reason
IntegrityError     download size/MD5 mismatch          path, what, expected, actual
IoError            a local file operation failed       path, errno (also an OSError)
=================  ==================================  ==========================================
"""

from __future__ import annotations

import builtins
import pathlib
from typing import List, Optional

__all__ = [
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


class MeetkitError(Exception):
    """Base class of every meetkit error."""

    #: Stable machine-readable name of the failure (``config``, ``api``, ``timeout``, ...).
    kind: str = "error"
    #: Whether trying the same thing again later may succeed.
    retryable: bool = False
    #: The vendor involved (``avd``, ``kedacom``, ``vmr``, ``netease``), if any.
    vendor: Optional[str] = None
    #: The endpoint id involved, if any (``download`` for downloads).
    endpoint: Optional[str] = None


class ConfigError(MeetkitError):
    """A profile or setting is missing or malformed, or the profile lacks the vendor."""


class Unsupported(ConfigError):
    """The unified meeting API cannot do this verb on this vendor; nothing was sent.

    Attributes: ``vendor``, ``verb`` and ``hint`` (the nearest vendor-specific endpoint).
    """

    #: The verb that was asked for (``start_live``, ...).
    verb: str = ""
    #: What to do instead, naming the vendor-specific endpoint.
    hint: str = ""


class InvalidParams(MeetkitError):
    """Parameters failed validation against the endpoint table; nothing was sent."""

    #: The parameter at fault (a dotted path for nested ones).
    param: Optional[str] = None
    #: What is wrong and what is expected.
    reason: Optional[str] = None


class UnknownEndpoint(InvalidParams):
    """The endpoint id is not in the vendor's table."""

    #: The closest known ids, best first.
    suggestions: List[str] = []


class TransportError(MeetkitError):
    """The request could not be delivered or its response could not be read."""

    #: True when it failed before reaching the server (resending cannot duplicate an action).
    before_send: bool = False


class TimeoutError(MeetkitError, builtins.TimeoutError):
    """No answer within the configured time. Also a builtin :class:`TimeoutError`."""

    #: The limit that was hit, in seconds.
    after: float = 0.0

    #: What was still missing when the wait was for something a vendor publishes later
    #: (``Meeting.download_recordings`` waiting for NetEase's recordings); empty otherwise.
    message: str = ""


class OutcomeUnknownError(MeetkitError):
    """A request that changes something was sent but its answer was lost: the server may have
    done it. ``retryable`` is False: look the object up (by its id or name) before trying again."""

    #: What happened to the answer.
    message: str = ""


class ApiError(MeetkitError):
    """The vendor answered with an error."""

    #: The vendor's error code, as text (``"40005"``).
    code: str = ""
    #: The vendor's message, as sent.
    message: str = ""
    #: The documented meaning of ``code``, when the vendor documents it.
    meaning: Optional[str] = None
    #: The vendor's request id, when it sends one.
    request_id: Optional[str] = None


class HttpError(ApiError):
    """The server answered an HTTP error status without a vendor envelope."""

    #: The HTTP status.
    status: int = 0


class AuthError(MeetkitError):
    """Credentials were refused, or the session could not be (re)established."""

    #: What the server said (never the credentials).
    message: str = ""


class DecodeError(MeetkitError):
    """The response was not in any shape the vendor documents."""


class ScriptError(MeetkitError):
    """A Rhai script failed (syntax, runtime error, limits, ``fail()``)."""

    #: What went wrong, without the position.
    message: str = ""
    #: The script file, when known.
    file: Optional[str] = None
    #: 1-based line, when known.
    line: Optional[int] = None
    #: 1-based column, when known.
    column: Optional[int] = None


class ScriptTimeoutError(ScriptError):
    """A script ran past its time limit (``timeout=``); its ``on_exit`` blocks still ran."""

    #: The limit that was reached, in seconds.
    after: float = 0.0


class ScriptMemoryError(ScriptError):
    """A script used more memory than its budget (``max_memory=``); its ``on_exit`` blocks still ran."""

    #: The budget, in bytes.
    limit: int = 0
    #: What the script was using when it was stopped, in bytes.
    used: int = 0


class CancelledError(MeetkitError):
    """The operation was cancelled (a progress callback returned False, a script was cancelled)."""

    #: Why.
    reason: str = ""


class IntegrityError(MeetkitError):
    """A downloaded file did not match its expected size or checksum; nothing was kept."""

    #: The final path the file would have had.
    path: Optional[pathlib.Path] = None
    #: ``size`` or ``md5``.
    what: str = ""
    #: What was expected.
    expected: str = ""
    #: What arrived.
    actual: str = ""


class IoError(MeetkitError, OSError):
    """A local file operation failed. Also an :class:`OSError`."""

    #: The file or directory involved.
    path: Optional[pathlib.Path] = None
