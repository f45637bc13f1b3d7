"""Family encodings on their own: the commands built and the states read (no Home Assistant).

The simulator tests cover the common paths end to end; these pin the payloads of the rarer
ones, from uiid-platforms.md.
"""

from __future__ import annotations

from homeassistant.exceptions import ServiceValidationError
import pytest

from custom_components.ewelink import climate, cover, event, fan, light, select
from custom_components.ewelink.climate import HVACMode, Targets
from custom_components.ewelink.cover import CoverState, Motion

KELVIN = light.Kelvin(2000, 6500)


def test_cover_messages() -> None:
    """setclose alone moves toward it, with other keys it is the end; op 2 stops, unknown."""
    at_30 = CoverState(position=30)
    assert cover._setclose_message({"setclose": 20}, at_30) == CoverState(30, None, Motion.OPENING)
    assert cover._setclose_message({"setclose": 90}, at_30) == CoverState(30, None, Motion.CLOSING)
    assert cover._setclose_message({"setclose": 70}, at_30) == at_30  # already there
    assert cover._setclose_message({"setclose": 60, "switch": "pause"}, at_30) == CoverState(40)
    assert cover._setclose_message({"setclose": 200}, at_30) is None
    assert cover._setclose_message({"setclose": 70}, CoverState()) == CoverState()
    assert cover._setclose_message({"sledOnline": "on"}, at_30) is None
    assert cover._op_message({"op": 2}, CoverState(closed=True)) == CoverState()
    assert cover._op_message({"op": 3}, CoverState()).motion is Motion.CLOSING
    assert cover._op_message({"statu": 5}, CoverState()) is None
    assert cover._op_read({"op": 1, "per": 100}) == CoverState(closed=False)
    assert cover._op_read({"op": 1, "per": "junk"}) == CoverState()


def test_th_thermostat_commands() -> None:
    """Off leaves auto; setting a range while off keeps it for later (mainSwitch off); dry."""
    params = {
        "deviceType": "humidity",
        "mainSwitch": "on",
        "targets": [
            {"targetHigh": "70", "reaction": {"switch": "on"}},
            {"targetLow": "60", "reaction": {"switch": "off"}},
        ],
    }
    assert climate._th_read(params).hvac_mode is HVACMode.DRY
    assert climate._th_mode(params, HVACMode.OFF) == {"mainSwitch": "off", "deviceType": "normal"}
    off = {**params, "mainSwitch": "off"}
    command = climate._th_targets(off, Targets(low=50, high=65), None)
    assert command["mainSwitch"] == "off"
    assert command["deviceType"] == "humidity"
    dry = climate._th_mode({"targets": "junk"}, HVACMode.DRY)
    assert dry["targets"][1] == {"targetLow": "20", "reaction": {"switch": "off"}}
    with pytest.raises(ServiceValidationError):
        climate._th_targets(params, Targets(low=80), None)
    elite = climate._elite_targets(
        {"autoControlEnabled": 0}, Targets(low=18, high=21), HVACMode.OFF
    )
    assert elite["autoControlEnabled"] == 0
    assert elite["autoControl"][0]["deviceType"] == "temperature"
    with pytest.raises(ServiceValidationError):
        climate._ns_targets({}, Targets(), None)
    assert climate._trv_targets({"workMode": "2"}, Targets(target=19.5), None) == {
        "autoTargetTemp": 195
    }


def test_light_requests() -> None:
    """Per-family payloads for the requests the simulator tests do not make."""
    request = light.LightRequest
    assert light._zigbee_rgbcw_set({}, request(color_temp_kelvin=6500, brightness=255), KELVIN) == [
        {"switch": "on", "colorMode": "cct", "colorTemp": 100, "cctBrightness": 100}
    ]
    assert light._diffuser_set({}, request(brightness=128), KELVIN) == [{"lightbright": 50}]
    assert light._diffuser_set({}, request(), KELVIN) == []
    assert light._t5_set({}, request(brightness=10), KELVIN) == []
    scene = light._b05_set(100)({}, request(effect="soft", brightness=255), KELVIN)
    assert scene == [
        {"switch": "on", "ltype": "soft",
         "soft": {"r": 38, "g": 254, "b": 0, "br": 100, "tf": 1, "sp": 1}}
    ]  # fmt: skip
    assert light._b1_set({"zyx_mode": 2}, request(brightness=255), KELVIN)[0]["zyx_mode"] == 2
    white = light._b1_set({}, request(color_temp_kelvin=4000, brightness=1), KELVIN)[0]
    assert (white["channel0"], white["channel1"]) == ("25", "25")
    assert (
        light._b1_state({"zyx_mode": 1, "channel0": "0", "channel1": "0"}, KELVIN).brightness
        is None
    )
    with pytest.raises(ServiceValidationError):
        light._b02_set({}, request(effect="party"), KELVIN)


def test_other_families() -> None:
    """A new configure entry gets the defaults; unknown button kinds are no events."""
    command = select._channel_startup_command(1)(
        {"configure": [{"outlet": 0, "startup": "on"}]}, "off"
    )
    assert command == {
        "configure": [
            {"outlet": 0, "startup": "on"},
            {"outlet": 1, "startup": "off", "enableDelay": 0, "width": 1000},
        ]
    }
    assert select._channel_startup(0)({}) is None
    assert event._key_event(None)({"key": 7, "trigTime": "1"}, event.Memory()) is None
    assert (
        event._local_key_event(1)({"localKeyPass": {"outlet": 0, "key": 0}}, event.Memory()) is None
    )
    assert fan._fan17_on(None) == {"fan": "on"}
