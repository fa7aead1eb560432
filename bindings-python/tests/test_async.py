"""Awaitables run on meetkit's runtime and never block the caller's event loop."""

from __future__ import annotations

import asyncio
from typing import Any, List

import pytest

import meetkit
from conftest import admin


def test_gather_100_concurrent_calls(client: meetkit.Client) -> None:
    async def main() -> List[Any]:
        return await asyncio.gather(
            *(client.acall("avd", "room.create", {"room_id": f"async-{i}", "user_id": "ops"}) for i in range(100))
        )

    results = asyncio.run(main())
    assert sorted(r["room_id"] for r in results) == sorted(f"async-{i}" for i in range(100))


def test_errors_and_vendor_handle(client: meetkit.Client) -> None:
    avd = client.vendor("avd")

    async def main() -> None:
        await avd.acall("room.create", {"room_id": "async-dup", "user_id": "ops"})
        with pytest.raises(meetkit.ApiError) as info:
            await avd.acall("room.create", {"room_id": "async-dup", "user_id": "ops"})
        assert info.value.code == "40005"

    asyncio.run(main())


def test_the_event_loop_keeps_running(sim: meetkit.Simulator, client: meetkit.Client) -> None:
    client.call("avd", "room.list")
    admin(sim, "POST", "faults", {"latency_ms": 500, "paths": ["/sdkapi/v2/room/list"]})

    async def main() -> "list[str]":
        order: "list[str]" = []

        async def call() -> None:
            await client.acall("avd", "room.list")
            order.append("call done")

        async def other() -> None:
            await asyncio.sleep(0)  # one turn of the loop
            order.append("loop ran")

        # The calls start first; a blocking acall would finish one before the loop turns again.
        await asyncio.gather(*(call() for _ in range(5)), other())
        return order

    assert asyncio.run(main()) == ["loop ran"] + ["call done"] * 5, "other work ran while the calls were in flight"
