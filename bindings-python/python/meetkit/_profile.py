"""Profile dictionaries that never show their secrets when printed."""

from __future__ import annotations

from typing import Any, Dict

from meetkit._meetkit import redact

__all__ = ["ProfileDict"]


class ProfileDict(Dict[str, Any]):
    """A plain ``dict`` of one profile (``{"avd": {"base_url": ..., ...}, ...}``).

    Its ``repr`` shows ``"***"`` for secret-looking fields (keys, secrets, passwords,
    tokens, auth); the values themselves are unchanged.
    """

    def __repr__(self) -> str:
        return f"ProfileDict({redact(dict(self))!r})"

    __str__ = __repr__
