"""Notebook reprs are useful and never show a secret."""

from __future__ import annotations

import meetkit

SECRETS = ("sim-secret-key", "sim-app-secret", "sim-consumer-secret", "sim-password", "123456", "sim-vmr-auth")


def test_reprs_hide_secrets(sim: meetkit.Simulator, client: meetkit.Client) -> None:
    texts = [
        repr(sim),
        repr(sim.profile),
        str(sim.profile),
        repr(client),
        repr(client.vendor("avd")),
        repr(meetkit.Client(profile_dict=sim.profile)),
    ]
    for text in texts:
        for secret in SECRETS:
            assert secret not in text, (secret, text)
    assert sim.avd_base_url in repr(sim) and "running" in repr(sim)
    assert repr(client) == "<meetkit.Client profile='sim' vendors=['avd', 'kedacom', 'vmr', 'netease']>"
    assert "'secret_key': '***'" in repr(sim.profile)
    assert sim.profile["avd"]["secret_key"] == "sim-secret-key", "the values themselves are intact"
    assert isinstance(sim.profile, dict)


def test_simulator_lifecycle() -> None:
    with meetkit.Simulator() as s:
        c = s.client()
        assert "rooms" in c.call("avd", "room.list")
    assert not s.running and "closed" in repr(s)
    s.close()
    try:
        c.call("avd", "room.list")
    except meetkit.TransportError:
        pass
    else:
        raise AssertionError("the simulator still answers after close()")
