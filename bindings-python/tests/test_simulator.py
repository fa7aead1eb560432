"""`meetkit.Simulator(...)` keywords: the options every surface shares (strict, tls, host,
port_base and one dict per vendor), checked and named when wrong."""

from __future__ import annotations

import os
import random
import socket

import pytest

import meetkit


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def free_port_base() -> int:
    """A port N with N..N+5 free now (the simulator binds six).

    Drawn below the kernel's ephemeral range (32768 and up by default), where a busy machine's
    outgoing connections keep ports taken; probed with SO_REUSEADDR, as the simulator binds."""
    rng = random.Random()
    for _ in range(200):
        base = rng.randrange(20000, 32000)
        held = []
        try:
            for p in range(base, base + 6):
                s = socket.socket()
                held.append(s)
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                s.bind(("127.0.0.1", p))
        except OSError:
            continue
        finally:
            for s in held:
                s.close()
        return base
    raise AssertionError("no six free consecutive ports")


def test_tls_serves_https_and_the_profile_trusts_its_ca() -> None:
    with meetkit.Simulator(tls=True) as sim:
        assert sim.avd_base_url.startswith("https://127.0.0.1:")
        assert sim.netease_base_url.startswith("https://")
        ca = sim.profile["transport"]["ca_cert"]
        assert os.path.isfile(ca)
        with sim.client() as client:
            room = client.call("avd", "room.create", {"room_id": "py-tls", "user_id": "ops"})
            assert room["room_id"] == "py-tls"
    assert not os.path.exists(ca), "the CA file goes when the simulator stops"


def test_vendor_options_reach_the_simulator() -> None:
    listen = f"127.0.0.1:{free_port()}"
    port = free_port_base()
    with meetkit.Simulator(
        strict=False,
        port_base=None,
        netease={"callback_listen": listen, "record_delay_secs": 1},
        kedacom={"api_level": 2},
        vmr={"rooms": [{"alias": "py@sim.vmr", "id": "4242", "host_pin": "2468"}]},
    ) as sim:
        assert sim.profile["netease"]["callback_listen"] == listen
        assert sim.profile["vmr"]["account"] == "py@sim.vmr"
        with sim.client(allow_secrets=True) as client:
            joined = client.call("vmr", "meet.check_join", {})
            assert joined["results"]["sipkey"] == "4242"
            assert joined["results"]["conferenceName"] == "py@sim.vmr"
    with meetkit.Simulator(port_base=port) as sim:
        assert sim.avd_base_url == f"http://127.0.0.1:{port}"


def test_a_wrong_option_is_a_config_error_naming_it() -> None:
    with pytest.raises(meetkit.ConfigError, match=r"avd\.token_ttl_secs = 0"):
        meetkit.Simulator(avd={"token_ttl_secs": 0})
    with pytest.raises(meetkit.ConfigError, match="api_levl"):
        meetkit.Simulator(kedacom={"api_levl": 2})
    with pytest.raises(meetkit.ConfigError, match="netease.callback_listen"):
        meetkit.Simulator(netease={"callback_listen": "nowhere"})
    with pytest.raises(TypeError):
        meetkit.Simulator(True)  # type: ignore[misc]
