"""The default download progress display: a tqdm bar when tqdm is installed and the
session is interactive (a terminal, an IPython shell or a notebook), else nothing."""

from __future__ import annotations

import importlib
import sys
from typing import Any, Optional

from meetkit._meetkit import Progress

__all__ = ["default_progress", "TqdmProgress"]


def _interactive() -> bool:
    if "ipykernel" in sys.modules or hasattr(sys, "ps1"):
        return True
    stream = sys.stderr
    return stream is not None and hasattr(stream, "isatty") and stream.isatty()


class TqdmProgress:
    """A progress callable drawing one tqdm bar per file (``download_recordings`` downloads
    several); ``close()`` ends the last one."""

    def __init__(self, tqdm_cls: Any) -> None:
        self._tqdm = tqdm_cls
        self._bar: Any = None
        self._file: Optional[str] = None

    def __call__(self, progress: Progress) -> bool:
        if self._bar is not None and progress.file_name != self._file:
            self.close()
        if self._bar is None:
            self._file = progress.file_name
            self._bar = self._tqdm(
                total=progress.total,
                desc=progress.file_name,
                unit="B",
                unit_scale=True,
                unit_divisor=1024,
            )
        bar = self._bar
        if progress.total is not None and bar.total != progress.total:
            bar.total = progress.total
        bar.update(progress.downloaded - bar.n)
        return True

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


def default_progress() -> Optional[TqdmProgress]:
    """What ``download(progress=True)`` uses."""
    if not _interactive():
        return None
    try:
        tqdm_auto = importlib.import_module("tqdm.auto")  # optional dependency
    except ImportError:
        return None
    return TqdmProgress(tqdm_auto.tqdm)
