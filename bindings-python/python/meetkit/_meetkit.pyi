"""Type stubs of the native module ``meetkit._meetkit`` (import ``meetkit`` instead)."""

import os
import pathlib
import types
from typing import Any, Awaitable, Callable, Dict, Iterator, List, Mapping, Optional, Union, final

from meetkit._profile import ProfileDict

__all__ = [
    "Client",
    "Vendor",
    "Endpoint",
    "Downloaded",
    "Progress",
    "Event",
    "EventStream",
    "Simulator",
    "run_script",
    "redact",
    "__version__",
]

__version__: str

_StrPath = Union[str, "os.PathLike[str]"]
_Params = Optional[Mapping[str, Any]]
_ProgressArg = Union[bool, None, Callable[["Progress"], Optional[bool]]]

@final
class Client:
    """A client for every configured vendor of one profile.

    * ``Client()``: the profile the CLI would use (``MEETKIT_CONFIG`` or ``./meetkit.toml``
      and ``MEETKIT_PROFILE``), else the ``MEETKIT_<VENDOR>_<FIELD>`` variables alone.
    * ``Client("lab", config="meetkit.toml")``: a named profile of a config file.
    * ``Client(profile_dict={"avd": {...}})``: a dict of the profile's shape (no variables applied).
    """

    def __new__(
        cls,
        profile: Optional[str] = None,
        *,
        config: Optional[_StrPath] = None,
        profile_dict: Optional[Mapping[str, Any]] = None,
    ) -> "Client": ...
    @property
    def profile_name(self) -> str: ...
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
    ) -> "Downloaded":
        """Download ``url`` into ``dir``. ``progress``: True (a tqdm bar when installed and
        interactive), False/None, or a callable receiving :class:`Progress` (return False to cancel)."""
    def events(self, vendor: str, params: _Params = None) -> "EventStream": ...
    def close(self) -> None: ...
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
    def kind(self) -> str: ...
    @property
    def data(self) -> Any: ...
    @property
    def received_at(self) -> float: ...

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
class Simulator:
    """All four vendor simulators in-process on 127.0.0.1, for use without a vendor account."""

    def __new__(cls) -> "Simulator": ...
    @property
    def profile(self) -> ProfileDict: ...
    def client(self) -> Client: ...
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

def run_script(
    path: _StrPath,
    client: Optional[Client] = None,
    vars: Optional[Mapping[str, Any]] = None,
    out: _StrPath = ...,  # "recordings"
    timeout: Optional[float] = None,
) -> Any:
    """Run a Rhai script and return its last value; Ctrl-C cancels it (on_exit blocks still run)."""

def redact(value: Any) -> Any:
    """A copy of plain data with secret-looking fields replaced by ``"***"``."""
