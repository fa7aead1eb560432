"""Parameter values follow the endpoint table: a Python int for a string parameter is sent
as its decimal text; what cannot be converted is refused before sending."""

from __future__ import annotations

import pytest

import meetkit


def test_int_for_a_string_parameter_is_sent_as_text(client: meetkit.Client) -> None:
    created = client.call("avd", "room.create", {"room_id": 770012345, "user_id": 42})
    assert created == {"room_id": "770012345"}
    read = client.call("avd", "room.read", {"room_id": 770012345})
    assert read["data"]["user_id"] == "42"
    # Text for an int parameter is converted too.
    stats = client.call("avd", "room.get_statistic", {"room_id": "770012345", "start_time": "0", "end_time": 1})
    assert isinstance(stats, dict)


def test_values_that_cannot_be_converted_name_the_parameter(client: meetkit.Client) -> None:
    with pytest.raises(meetkit.InvalidParams) as info:
        client.call("avd", "room.read", {"room_id": 1.5})
    assert info.value.param == "room_id"
    assert "expected string, got float (1.5)" in str(info.value)
