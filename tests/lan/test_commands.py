"""Command paths by content (lan-protocol.md §4.5) and the per-UIID routing helpers."""

from __future__ import annotations

from typing import Any

import pytest

from custom_components.ewelink.lan import (
    DIY_TYPES,
    LAN_UIIDS,
    NO_LAN_UIIDS,
    cloud_only,
    command_for,
    commands_over_lan,
    diy_uiid,
)
from custom_components.ewelink.lan.commands import valid_command


@pytest.mark.parametrize(
    ("params", "command"),
    [
        ({"switch": "on"}, "switch"),
        ({"switches": [{"outlet": 0, "switch": "on"}]}, "switches"),
        ({"switch": "on", "brightness": 40, "mode": 0}, "dimmable"),
        ({"ltype": "white", "white": {"br": 70, "ct": 100}}, "dimmable"),
        ({"startup": "stay"}, "startup"),
        ({"configure": [{"outlet": 0, "startup": "on"}]}, "startups"),
        ({"pulse": "on", "pulseWidth": 2000}, "pulse"),
        ({"pulses": [{"outlet": 0, "pulse": "on", "width": 2000}]}, "pulses"),
        ({"cmd": "transmit", "rfChl": 2}, "transmit"),
        ({"cmd": "capture", "rfChl": 2}, "capture"),
        ({"fan": "on", "speed": 2}, "fan"),
        ({"light": "on"}, "light"),
        ({"sledOnline": "on"}, "sledonline"),
        ({"subDevId": "1000000001", "uiActive": {"outlet": 1, "time": 60}}, "uiActive"),
        ({"getHoursKwh": {"start": 0, "end": 719}}, "getHoursKwh"),
        ({}, "getState"),
        ({"subDevId": "1000000001"}, "getState"),
        ({"lock": 1}, "lock"),
        ({"cmd": "bad path!", "switch": "on"}, "switch"),
    ],
)
def test_command_for(params: dict[str, Any], command: str) -> None:
    assert command_for(params) == command


def test_command_for_refuses_a_key_that_is_no_path() -> None:
    with pytest.raises(ValueError, match="command"):
        command_for({"../etc": 1})


def test_valid_command() -> None:
    assert valid_command("getState")
    assert not valid_command("")
    assert not valid_command("a/b")
    assert not valid_command("x" * 33)


def test_commands_over_lan() -> None:
    assert commands_over_lan(1)
    assert commands_over_lan(None)
    assert commands_over_lan(999)  # unknown: tried, the device answers 4xx if it cannot
    assert not commands_over_lan(168)  # announces, cannot control locally
    assert not commands_over_lan(243)
    assert not commands_over_lan(276)  # S61STPF times out on every LAN command
    assert not commands_over_lan(1770)  # zigbee
    assert commands_over_lan(130, is_child=True)  # SPM-4Relay through SPM-Main
    assert not commands_over_lan(130)
    assert not commands_over_lan(1256, is_child=True)
    assert not commands_over_lan(None, is_child=True)
    assert not LAN_UIIDS & NO_LAN_UIIDS


def test_cloud_only_params() -> None:
    assert cloud_only({"targets": []})
    assert cloud_only({"switch": "on", "transitionTime": 3})
    assert not cloud_only({"switch": "on"})


def test_diy_uiid() -> None:
    assert diy_uiid("diy_plug", {"switch": "on"}) == 1
    assert diy_uiid("diy_plug", {"switches": []}) == 77
    assert diy_uiid("strip") == 4
    assert diy_uiid("diy_light") == 136
    assert diy_uiid("meter") == 0
    assert diy_uiid(None) == 0
    assert set(DIY_TYPES.values()) >= {1, 4, 5, 15, 28, 34, 44, 77, 126, 136}
