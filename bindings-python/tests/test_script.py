"""meetkit.run_script with the repository's AVD record workflow."""

from __future__ import annotations

from pathlib import Path

import pytest

import meetkit
from conftest import REPO


def test_record_meeting_script(client: meetkit.Client, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    result = meetkit.run_script(
        REPO / "scripts" / "avd_record_meeting.rhai",
        client=client,
        vars={"room_id": "script-room", "record_seconds": 1},
        out=tmp_path,
    )
    assert result["room_id"] == "script-room" and result["record_id"]
    files = [tmp_path / name for name in result["files"]]
    assert files and all(f.is_file() for f in files)
    assert sum(f.stat().st_size for f in files) == result["bytes"] > 0
    printed = capsys.readouterr().out
    assert "summary: room script-room" in printed, printed


def test_script_vars_and_timeout(client: meetkit.Client, tmp_path: Path) -> None:
    script = tmp_path / "vars.rhai"
    script.write_text("#{ doubled: n * 2, name: who }")
    assert meetkit.run_script(script, client=client, vars={"n": 21, "who": "x"}, out=tmp_path) == {
        "doubled": 42,
        "name": "x",
    }
    script.write_text("loop { sleep(0.05); }")
    with pytest.raises(meetkit.ScriptError, match="time limit of 0.3s"):
        meetkit.run_script(script, client=client, out=tmp_path, timeout=0.3)


def test_runs_are_journaled(client: meetkit.Client, tmp_path: Path) -> None:
    # Read through meetkit, not Python's sqlite3: two SQLite libraries in one process do not see
    # each other's file locks, and one may truncate the WAL index the other has mapped (SIGBUS).
    journal = tmp_path / "runs.db"
    script = tmp_path / "rec.rhai"
    script.write_text(
        'let avd = vendor("avd");\n'
        'avd.call("room.create", #{ room_id: "journaled", user_id: "ops" });\n'
        'avd.call("room.del", #{ room_id: "journaled" });\n'
    )
    meetkit.run_script(script, client=client, out=tmp_path, journal=journal)
    script.write_text('vendor("avd").call("room.create", #{ room_id: "left", user_id: "ops" });\nfail("broken");\n')
    with pytest.raises(meetkit.ScriptError, match="broken"):
        meetkit.run_script(script, client=client, out=tmp_path, journal=journal)
    runs = meetkit.journal_runs(journal)  # newest first
    assert [r["status"] for r in runs] == ["failed", "ok"], runs
    assert "broken" in runs[0]["error"]
    failed, ok = (meetkit.journal_run(journal, r["id"]) for r in runs)
    left = [(r["kind"], r["stop_endpoint"]) for r in failed["resources"] if r["stopped_at"] is None]
    assert left == [("room", "room.close")], left
    calls = [(c["endpoint"], c["outcome"]) for c in ok["calls"]]
    assert ("room.create", "ok") in calls and ("room.del", "ok") in calls
    # journal=False records nothing.
    script.write_text("40 + 2")
    assert meetkit.run_script(script, client=client, out=tmp_path, journal=False) == 42
    assert len(meetkit.journal_runs(journal)) == 2


def test_a_client_given_a_journal_records_its_calls(sim: meetkit.Simulator, tmp_path: Path) -> None:
    from conftest import sim_profile

    journal = tmp_path / "client.db"
    c = meetkit.Client(profile_dict=sim_profile(sim), journal=journal)
    c.call("avd", "room.create", {"room_id": "client-journal", "user_id": "ops"})
    (run,) = meetkit.journal_runs(journal)
    assert run["status"] == "running"
    resources = meetkit.journal_run(journal, run["id"])["resources"]
    assert [r["kind"] for r in resources if r["stopped_at"] is None] == ["room"]
    c.close()
    assert [r["status"] for r in meetkit.journal_runs(journal)] == ["ok"]


def test_a_script_over_its_memory_budget_stops_after_on_exit(
    client: meetkit.Client, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    script = tmp_path / "grow.rhai"
    # Each level of the recursion keeps 1 MiB alive: 64 MiB at the call depth limit.
    script.write_text(
        'on_exit(|| print("on_exit ran"));\n'
        'let big = "................"; for i in 0..10 { big += big; }\n'
        "fn grow(big) { let mine = []; for i in 0..64 { mine.push(big + i); } grow(big) }\n"
        "grow(big);\n"
    )
    with pytest.raises(meetkit.ScriptMemoryError, match="memory budget of 16 MiB exceeded") as info:
        meetkit.run_script(script, client=client, out=tmp_path, max_memory="16M")
    assert info.value.limit == 16 << 20 and info.value.limit < info.value.used < 24 << 20
    assert info.value.kind == "memory_limit" and info.value.line == 4
    assert "on_exit ran" in capsys.readouterr().out
    with pytest.raises(meetkit.ConfigError, match="max_memory"):
        meetkit.run_script(script, client=client, out=tmp_path, max_memory="0")
    with pytest.raises(ValueError, match="max_memory"):
        meetkit.run_script(script, client=client, out=tmp_path, max_memory=-5)


def test_env_reads_only_allowed_variables(
    client: meetkit.Client, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MEETKIT_SCRIPT_SITE", "lab-7")
    monkeypatch.setenv("SITE_REGION", "eu")
    script = tmp_path / "env.rhai"
    script.write_text('[env("MEETKIT_SCRIPT_SITE"), env("SITE_REGION")]')
    with pytest.raises(meetkit.ScriptError, match="--env SITE_REGION"):
        meetkit.run_script(script, client=client, out=tmp_path)
    assert meetkit.run_script(script, client=client, out=tmp_path, env_allow=["SITE_REGION"]) == ["lab-7", "eu"]
