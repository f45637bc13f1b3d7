"""Events over the simulator: once per press, never on replays, full states or list reads."""

from __future__ import annotations

from typing import Any

from homeassistant.const import EVENT_STATE_CHANGED
from homeassistant.core import Event, HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry

from tests.common import Cloud, wait_for
from tests.conftest import setup_entry

from .helpers import add

RF_TAGS = {
    "zyx_info": [
        {"remote_type": "2", "name": "Gate", "buttonName": [{"0": "Open"}, {"1": "Close"}]},
        {"remote_type": "6", "name": "Window", "buttonName": [{"4": "Window"}]},
    ]
}
RF_LIST = [{"rfChl": 0, "rfVal": "A1"}, {"rfChl": 1, "rfVal": "B2"}, {"rfChl": 4, "rfVal": "C3"}]


class Fired:
    """The events every event entity fired: [(entity_id, event_type)].

    An event entity's state is the time of its last event: a new time is a new event (going
    unavailable and back is not).
    """

    def __init__(self, hass: HomeAssistant) -> None:
        """Listen to state changes of event entities."""
        self.events: list[tuple[str, str]] = []
        self._last: dict[str, str] = {
            state.entity_id: state.state for state in hass.states.async_all("event")
        }
        hass.bus.async_listen(EVENT_STATE_CHANGED, self._changed)

    def _changed(self, event: Event[Any]) -> None:
        new = event.data["new_state"]
        if new is None or new.domain != "event" or new.state in ("unknown", "unavailable"):
            return
        if self._last.get(new.entity_id) != new.state:
            self._last[new.entity_id] = new.state
            self.events.append((new.entity_id, new.attributes["event_type"]))


async def test_button_presses_fire_once(
    hass: HomeAssistant, cloud: Cloud, config_entry: MockConfigEntry
) -> None:
    """Zigbee buttons (trigTime), R5 (actionTime, outlet), MINI R4 and M5 keys, T5 actions."""
    bridge = await add(cloud, "1000005001", 66, "Bridge")
    button = await add(cloud, "a480005002", 1000, "Doorbell", parent=bridge)
    quad = await add(cloud, "a480005003", 7039, "Quad", parent=bridge)
    dual = await add(cloud, "1000005004", 126, "Dual")
    remote = await add(cloud, "a480005005", 174, "Remote", parent=dual)
    mini = await add(cloud, "1000005006", 138, "Mini")
    m5 = await add(cloud, "1000005007", 161, "Wall")
    mini2 = await add(cloud, "1000005009", 275, "Duo")
    t5 = await add(cloud, "1000005008", 212, "Panel")
    await setup_entry(hass, config_entry)
    fired = Fired(hass)

    await button.report({"key": 0, "trigTime": "1700000000001"})
    await button.report({"key": 0, "trigTime": "1700000000001"})  # a replay
    await button.report({"battery": 90})
    await button.report({"key": 1, "trigTime": "1700000000002"})
    await quad.report({"key": 2, "outlet": 2, "trigTime": "1700000000003"})
    await remote.report({"key": 0, "outlet": 5, "count": 1, "actionTime": "2024-05-01T10:00:00Z"})
    await mini.report({"key": 3})
    await m5.report({"localKeyPass": {"outlet": 1, "key": 2}})  # over the cloud: alone
    # Over LAN: only triggerType 11 is a press, and the same seq is the same press.
    await mini2.report({"localKeyPass": {"outlet": 0, "key": 0}, "triggerType": 2, "seq": 7})
    await mini2.report({"localKeyPass": {"outlet": 0, "key": 1}, "triggerType": 11, "seq": 8})
    await mini2.report({"localKeyPass": {"outlet": 0, "key": 1}, "triggerType": 11, "seq": 8})
    await t5.report({"switches": [{"outlet": 0, "switch": "on"}], "triggerType": 2})
    await t5.report({"slide": 2})
    await t5.report({"slide": 9})
    expected = [
        ("event.doorbell_button", "single"),
        ("event.doorbell_button", "double"),
        ("event.quad_button_3", "hold"),
        ("event.remote_button_6", "single"),
        ("event.mini_button", "triple"),
        ("event.wall_button_2", "hold"),
        ("event.duo_button_1", "double"),
        ("event.panel_action", "touch"),
        ("event.panel_action", "slide_2"),
    ]
    await wait_for(lambda: len(fired.events) >= len(expected))
    await hass.async_block_till_done()
    # Events of different devices may interleave on the way; per device they keep their order.
    assert sorted(fired.events) == sorted(expected)
    assert [e for e in fired.events if e[0] == "event.doorbell_button"] == expected[:2]

    # A device that reconnects sends its full state, with the last press: not a press.
    await m5.go_offline()
    await m5.go_online()
    # A press while Home Assistant is disconnected shows up in the thing-list read after the
    # reconnect: not fired then (it is old), nor when the device replays it later.
    coordinator = config_entry.runtime_data.coordinator
    cloud.sim.faults.refuse_ws_seconds = 2
    await cloud.sim.drop_app_sockets()
    await wait_for(lambda: not coordinator.connected)
    await button.report({"key": 2, "trigTime": "1700000000009"})
    await wait_for(
        lambda: coordinator.data[button.deviceid].params["trigTime"] == "1700000000009", 20
    )
    cloud.sim.faults.replay_events = True
    await bridge.go_offline()
    await bridge.go_online()
    await wait_for(lambda: coordinator.data[button.deviceid].online)
    await m5.report({"sledOnline": "off"})  # the last frame through: everything before is in
    await wait_for(lambda: coordinator.data[m5.deviceid].params["sledOnline"] == "off")
    await hass.async_block_till_done()
    assert sorted(fired.events) == sorted(expected)


async def test_rf_bridge_receipts(
    hass: HomeAssistant, cloud: Cloud, config_entry: MockConfigEntry
) -> None:
    """rfTrigN fires the learned channel's event; the same time again (LAN + cloud) does not."""
    bridge = await add(cloud, "1000005011", 28, "Bridge", params={"rfList": RF_LIST}, tags=RF_TAGS)
    await setup_entry(hass, config_entry)
    # Pushes that arrive during a read are applied after it, together: wait for the catch-up.
    await wait_for(lambda: config_entry.runtime_data.coordinator.settled)
    fired = Fired(hass)
    await bridge.report({"cmd": "trigger", "rfTrig1": "2024-05-01T10:00:00.000Z"})
    await bridge.report({"cmd": "trigger", "rfTrig1": "2024-05-01T10:00:00.000Z"})
    await bridge.report({"cmd": "trigger", "rfTrig4": "2024-05-01T10:00:05.000Z"})
    await bridge.report({"init": 1, "rfTrig0": "2024-05-01T10:00:06.000Z"})  # a full state
    await bridge.report({"cmd": "trigger", "rfTrig1": "2024-05-01T10:01:00.000Z"})
    expected = [
        ("event.bridge_gate_close", "pressed"),
        ("event.bridge_window", "triggered"),
        ("event.bridge_gate_close", "pressed"),
    ]
    await wait_for(lambda: len(fired.events) >= len(expected))
    await hass.async_block_till_done()
    assert sorted(fired.events) == sorted(expected)
    assert fired.events[0] == expected[0]
