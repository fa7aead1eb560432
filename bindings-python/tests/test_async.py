"""Awaitables run on meetkit's runtime and never block the caller's event loop."""

from __future__ import annotations

import asyncio
from pathlib import Path
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


def test_arun_script_returns_and_a_cancelled_task_cancels_the_script(
    sim: meetkit.Simulator, client: meetkit.Client, tmp_path: Path
) -> None:
    from conftest import hits

    script = tmp_path / "wait.rhai"
    script.write_text("40 + n")

    async def value() -> Any:
        return await meetkit.arun_script(script, client=client, vars={"n": 2}, out=tmp_path, journal=False)

    assert asyncio.run(value()) == 42

    # Cancelled while the script sleeps: its on_exit block runs before the task ends.
    script.write_text(
        'on_exit(|| vendor("avd").call("room.create", #{ room_id: "async-cleaned", user_id: "ops" }));\n'
        'vendor("avd").call("room.list", #{});\nsleep(3600);\n'
    )
    before = hits(sim, "/sdkapi/v2/room/list")

    async def cancelled() -> None:
        task = asyncio.ensure_future(meetkit.arun_script(script, client=client, out=tmp_path, journal=False))
        for _ in range(6000):  # until the script sleeps (a minute at most)
            if hits(sim, "/sdkapi/v2/room/list") > before:
                break
            await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(cancelled())
    room = client.call("avd", "room.read", {"room_id": "async-cleaned"})  # ApiError 40004 if not
    assert room["data"]["user_id"] == "ops", room
