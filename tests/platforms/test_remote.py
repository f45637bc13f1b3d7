"""The RF bridge's remote and buttons over the simulator: transmit, learn, new buttons."""

from __future__ import annotations

from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from tests.common import Cloud, state_of, wait_for
from tests.conftest import setup_entry

from .helpers import add, call

TAGS = {
    "zyx_info": [
        {"remote_type": "3", "name": "Gate",
         "buttonName": [{"0": "Open"}, {"1": "Close"}, {"2": "Stop"}]},
    ]
}  # fmt: skip


async def test_send_and_learn_codes(
    hass: HomeAssistant, cloud: Cloud, config_entry: MockConfigEntry
) -> None:
    """Codes go out by channel or button name; a learned channel becomes a button."""
    bridge = await add(
        cloud,
        "1000006001",
        28,
        "Rf",
        params={"rfList": [{"rfChl": 0, "rfVal": "A1"}, {"rfChl": 1, "rfVal": "B2"}]},
        tags=TAGS,
    )
    await setup_entry(hass, config_entry)
    assert state_of(hass, "remote.rf") == "on"
    assert state_of(hass, "button.rf_gate_stop") is None  # not learned yet

    await call(hass, "remote", "send_command", "remote.rf", command=["Gate Open", "1"])
    assert bridge.actions == [{"transmit": 0}, {"transmit": 1}]
    await call(hass, "button", "press", "button.rf_gate_close")
    assert bridge.actions[-1] == {"transmit": 1}
    await call(hass, "remote", "send_command", "remote.rf", command=["gate open"], num_repeats=2)
    assert bridge.actions[-2:] == [{"transmit": 0}, {"transmit": 0}]
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "remote", "send_command", "remote.rf", command=["Gate Stop"])
    assert err.value.translation_key == "unknown_rf_command"
    with pytest.raises(ServiceValidationError):
        await call(hass, "remote", "turn_off", "remote.rf")

    await call(hass, "remote", "learn_command", "remote.rf", command=["2"])
    assert bridge.params["cmd"] == "capture"
    # The bridge reports the learned code: its button and event appear.
    await wait_for(lambda: state_of(hass, "button.rf_gate_stop") is not None)
    await call(hass, "button", "press", "button.rf_gate_stop")
    assert bridge.actions[-1] == {"transmit": 2}
    assert state_of(hass, "event.rf_gate_stop") == "unknown"
