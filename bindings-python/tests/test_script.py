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
    import sqlite3

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
    with sqlite3.connect(journal) as db:
        runs = db.execute("SELECT status, error FROM runs ORDER BY started_at").fetchall()
        assert [r[0] for r in runs] == ["ok", "failed"], runs
        assert "broken" in runs[1][1]
        left = db.execute("SELECT kind, stop_endpoint FROM resources WHERE stopped_at IS NULL").fetchall()
        assert left == [("room", "room.close")], left
        calls = db.execute("SELECT endpoint, outcome FROM calls ORDER BY id").fetchall()
        assert ("room.create", "ok") in calls and ("room.del", "ok") in calls
    # journal=False records nothing.
    before = journal.stat().st_size
    script.write_text("40 + 2")
    assert meetkit.run_script(script, client=client, out=tmp_path, journal=False) == 42
    with sqlite3.connect(journal) as db:
        assert db.execute("SELECT COUNT(*) FROM runs").fetchone()[0] == 2
    assert journal.stat().st_size >= before


def test_a_client_given_a_journal_records_its_calls(sim: meetkit.Simulator, tmp_path: Path) -> None:
    import sqlite3

    from conftest import sim_profile

    journal = tmp_path / "client.db"
    c = meetkit.Client(profile_dict=sim_profile(sim), journal=journal)
    c.call("avd", "room.create", {"room_id": "client-journal", "user_id": "ops"})
    with sqlite3.connect(journal) as db:
        assert db.execute("SELECT status FROM runs").fetchall() == [("running",)]
        assert db.execute("SELECT kind FROM resources WHERE stopped_at IS NULL").fetchall() == [("room",)]
    c.close()
    with sqlite3.connect(journal) as db:
        assert db.execute("SELECT status FROM runs").fetchall() == [("ok",)]


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
