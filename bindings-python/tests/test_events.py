"""Vendor events in Python: vmr's event stream and NetEase's callbacks, which the in-process
simulator delivers to the client's receiver (as `meetkit --sim` wires them)."""

from __future__ import annotations

import queue
import threading
import time
from typing import Callable, Iterator, Union

import pytest

import meetkit
from conftest import advance


class Pump:
    """Iterates a stream in a thread so the test can wait with a deadline."""

    def __init__(self, stream: meetkit.EventStream) -> None:
        self.stream = stream
        self.items: "queue.Queue[Union[meetkit.Event, BaseException, None]]" = queue.Queue()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            for event in self.stream:
                self.items.put(event)
        except BaseException as e:  # handed to the test thread
            self.items.put(e)
        self.items.put(None)

    def wait_for(self, kind: str, match: Callable[[meetkit.Event], bool], timeout: float) -> meetkit.Event:
        deadline = time.monotonic() + timeout
        seen: "list[str]" = []
        while True:
            left = deadline - time.monotonic()
            try:
                item = self.items.get(timeout=max(left, 0.01))
            except queue.Empty:
                raise AssertionError(f"no {kind} within {timeout} s; saw {seen}") from None
            if item is None:
                raise AssertionError(f"the stream ended before {kind}; saw {seen}")
            if isinstance(item, BaseException):
                raise item
            seen.append(item.type)
            if item.type == kind and match(item):
                return item

    def close(self) -> None:
        """Closing the stream ends the iteration waiting in the pump thread."""
        self.stream.close()
        self.thread.join(5)
        assert not self.thread.is_alive(), "close() did not end the waiting iteration"


@pytest.fixture
def pump_of() -> Iterator[Callable[[meetkit.EventStream], Pump]]:
    pumps: "list[Pump]" = []

    def make(stream: meetkit.EventStream) -> Pump:
        pumps.append(Pump(stream))
        return pumps[-1]

    yield make
    for p in pumps:
        p.close()


def test_vmr_dialled_device_produces_participant_create(
    client: meetkit.Client, pump_of: Callable[[meetkit.EventStream], Pump]
) -> None:
    events = pump_of(client.events("vmr"))
    dialled = client.call(
        "vmr", "conference.dial", {"role": "guest", "destination": "sip:1001@10.0.0.5", "protocol": "sip"}
    )
    uuid = dialled[0]
    created = events.wait_for("participant_create", lambda e: e.data.get("uuid") == uuid, timeout=60)
    assert created.vendor == "vmr" and created.received_at > 0
    # One shape on every surface: the same keys as a script's wait_event map and C's callback.
    as_dict = created.to_dict()
    assert set(as_dict) == {"vendor", "type", "data", "received_at_ms"}
    assert (as_dict["type"], created.kind) == ("participant_create", "participant_create")
    assert abs(as_dict["received_at_ms"] - created.received_at * 1000) < 2
    client.call("vmr", "participant.disconnect", {"uuid": uuid})


def test_netease_callbacks_reach_the_simulator_client(
    sim: meetkit.Simulator, pump_of: Callable[[meetkit.EventStream], Pump]
) -> None:
    assert sim.profile["netease"]["callback_listen"].startswith("127.0.0.1:")
    with sim.client() as client:
        events = pump_of(client.events("netease"))
        account = client.call("netease", "account.create", {})
        start_ms = int((time.time() + 1) * 1000)  # the simulator's clock is advanced past it below
        meeting = client.call(
            "netease",
            "meeting.create",
            {
                "host": account["accountId"],
                "type": 3,
                "subject": "py callbacks",
                "startTime": start_ms,
                "endTime": start_ms + 3600 * 1000,
            },
        )
        uid = meeting["meetingUniqueId"]
        advance(sim, 2)
        started = events.wait_for(
            "MEETING_ROOM_START", lambda e: e.data["msgBody"]["meetingUniqueId"] == uid, timeout=60
        )
        assert started.vendor == "netease"
        client.call("netease", "meeting.end_by_unique_id", {"meetingUniqueId": uid})
        events.wait_for("MEETING_ROOM_END", lambda e: e.data["msgBody"]["meetingUniqueId"] == uid, timeout=60)
