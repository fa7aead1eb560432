"""Secret result fields (tokens, PINs, passwords) read "***" unless the caller allows them."""

from __future__ import annotations

from pathlib import Path

import pytest

import meetkit


def test_results_hide_secrets_by_default(client: meetkit.Client) -> None:
    assert client.allow_secrets is False
    assert client.call("avd", "app.get_token")["token"] == "***"
    joined = client.vendor("vmr").call("meet.check_join")["results"]
    assert joined["password"] == "***"
    # Identifiers that merely look like keys stay readable.
    assert joined["sipkey"] and joined["sipkey"] != "***"


def test_allow_secrets_shows_them(sim: meetkit.Simulator) -> None:
    with meetkit.Client(profile_dict=sim.profile, allow_secrets=True) as c:
        assert c.allow_secrets is True
        token = c.call("avd", "app.get_token")["token"]
        assert token and token != "***"
        assert c.vendor("vmr").call("meet.check_join")["results"]["password"] == sim.profile["vmr"]["password"]
    with sim.client(allow_secrets=True) as c:
        assert c.call("avd", "app.get_token")["token"] != "***"


def test_scripts_see_secrets_only_when_allowed(
    client: meetkit.Client, sim: meetkit.Simulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    script = tmp_path / "token.rhai"
    script.write_text('vendor("avd").call("app.get_token", #{}).token')
    assert meetkit.run_script(script, client=client, out=tmp_path, journal=False) == "***"
    shown = meetkit.run_script(script, client=client, out=tmp_path, journal=False, allow_secrets=True)
    assert shown != "***" and len(shown) > 8
    with sim.client(allow_secrets=True) as allowed:
        # None: as the client says; False: hidden even from an allowed client.
        assert meetkit.run_script(script, client=allowed, out=tmp_path, journal=False) != "***"
        assert meetkit.run_script(script, client=allowed, out=tmp_path, journal=False, allow_secrets=False) == "***"
