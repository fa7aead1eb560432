"""meetkit's errors as Temporal application errors, and the retry policies built on them.

Each failure an activity raises is a :class:`temporalio.exceptions.ApplicationError` whose
``type`` is the meetkit class name (``ApiError``, ``TransportError``, ...), whose message is
meetkit's (vendor, endpoint, code, fix; never a secret), whose ``details`` carry the error's
attributes as a dict, and whose ``non_retryable`` follows meetkit:

* an error meetkit calls non-retryable (``retryable`` False: a vendor code its table does not
  mark as passing, bad parameters, refused credentials, configuration) is non-retryable;
* network errors, timeouts and passing vendor errors (busy, rate limited) are retried;
* but a create or start (an endpoint the table does not mark idempotent) is never retried
  blindly: a transport error after the request left, a timeout, or a lost answer
  (``OutcomeUnknownError``) is retried only by activities that look first (``checked``): the
  meeting verbs ``create_room``, ``schedule``, ``invite`` and ``start_recording`` find what an
  earlier attempt did before doing it again.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Dict

from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError

from meetkit.errors import ApiError, MeetkitError, OutcomeUnknownError, TransportError

__all__ = ["NON_RETRYABLE_TYPES", "RETRY_POLICY", "COMPENSATION_RETRY_POLICY", "application_error"]

#: meetkit error classes that no retry can fix (listed in the policies as well, so an error
#: raised outside meetkit's mapping with one of these types is not retried either).
NON_RETRYABLE_TYPES = [
    "ConfigError",
    "Unsupported",
    "InvalidParams",
    "UnknownEndpoint",
    "AuthError",
    "DecodeError",
    "ScriptError",
    "ScriptMemoryError",
    "ScriptTimeoutError",
]



def _policy(attempts: int) -> RetryPolicy:
    """1 s, 2 s, 4 s, ... at most 1 min apart, ``attempts`` attempts, meetkit's permanent errors not retried."""
    return RetryPolicy(
        initial_interval=timedelta(seconds=1),
        backoff_coefficient=2.0,
        maximum_interval=timedelta(minutes=1),
        maximum_attempts=attempts,
        non_retryable_error_types=NON_RETRYABLE_TYPES,
    )


#: Activities: 10 attempts.
RETRY_POLICY = _policy(10)

#: Compensation (stop the recording, end the room) keeps trying longer: a room left running
#: costs more than a late workflow.
COMPENSATION_RETRY_POLICY = _policy(30)


def _attributes(error: MeetkitError) -> Dict[str, Any]:
    """The error's data attributes as plain values (no secrets: meetkit keeps none in them)."""
    out: Dict[str, Any] = {"type": type(error).__name__, "kind": error.kind, "retryable": error.retryable}
    for name in ("vendor", "endpoint", "code", "meaning", "request_id", "status", "param", "reason", "before_send"):
        value = getattr(error, name, None)
        if isinstance(value, (str, int, float, bool)):
            out[name] = value
    return out


def application_error(
    error: MeetkitError, *, idempotent: bool = True, checked: bool = False, **extra: Any
) -> ApplicationError:
    """``error`` as a Temporal application error (see the module doc for when it is retried).

    ``idempotent``: the action may be repeated safely (reads, set-state calls, stops);
    ``checked``: the activity looks for an earlier attempt's effect before acting again.
    ``extra`` goes into the details (e.g. the resources a script left running).
    """
    retry = error.retryable
    if isinstance(error, OutcomeUnknownError):
        retry = checked
    elif retry and not idempotent and not checked:
        # The server answered (nothing was done), or the request never left.
        retry = isinstance(error, ApiError) or (isinstance(error, TransportError) and error.before_send)
    details = _attributes(error)
    details.update(extra)
    return ApplicationError(str(error), details, type=type(error).__name__, non_retryable=not retry)
