"""``meetkit.arun_script``: a Rhai workflow awaited from asyncio (a notebook, a service)."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any, Mapping, Optional, Sequence, Union

from meetkit._meetkit import CancelToken, Client, run_script

_StrPath = Union[str, "os.PathLike[str]"]


async def arun_script(
    path: _StrPath,
    client: Optional[Client] = None,
    vars: Optional[Mapping[str, Any]] = None,
    out: _StrPath = Path("recordings"),
    timeout: Optional[float] = None,
    journal: Union[_StrPath, bool, None] = None,
    max_memory: Union[int, str, None] = None,
    env_allow: Optional[Sequence[str]] = None,
    allow_secrets: Optional[bool] = None,
) -> Any:
    """:func:`meetkit.run_script` for asyncio: the script runs on a worker thread and the event
    loop keeps running. Cancelling the awaiting task cancels the script: its on_exit blocks run
    (they stop what it started) and only then is :class:`asyncio.CancelledError` raised, so
    ``asyncio.wait_for`` or a task group never leaves a recording running behind a cancelled
    task. The arguments are :func:`meetkit.run_script`'s."""
    token = CancelToken()
    work = asyncio.ensure_future(
        asyncio.to_thread(
            run_script,
            path,
            client,
            vars=vars,
            out=out,
            timeout=timeout,
            journal=journal,
            max_memory=max_memory,
            env_allow=env_allow,
            allow_secrets=allow_secrets,
            cancel=token,
        )
    )
    try:
        return await asyncio.shield(work)
    except asyncio.CancelledError:
        token.cancel()
        # Wait for the script's on_exit blocks; a second cancel does not cut them short.
        while not work.done():
            try:
                await asyncio.wait({work})
            except asyncio.CancelledError:
                continue
        if not work.cancelled():
            work.exception()  # the run's own end (meetkit.CancelledError) is expected: retrieved
        raise
