"""Real multicast: the simulator's mDNS, Home Assistant's zeroconf integration, our entries.

Runs in a private network namespace (skipped where that is not possible), so real mDNS packets
flow between the simulated devices and Home Assistant's shared zeroconf instance without
touching the host's network.
"""

from __future__ import annotations

from typing import Any

from homeassistant.config_entries import SOURCE_ZEROCONF
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.ewelink.const import DOMAIN
from custom_components.ewelink.lan_hub import async_get_hub
from simulator import SimulatorConfig
from tests.common import Cloud, state_of, wait_for
from tests.conftest import setup_entry
from tests.lan_helpers import lan_of, netns  # noqa: F401  (fixture)


@pytest.fixture
def sim_config() -> SimulatorConfig:
    """LAN devices that publish real mDNS on the namespace's loopback."""
    return SimulatorConfig(
        hb_interval=4, device_ack_timeout=1.0, device_register_retry=0.2, lan=True, lan_mdns=True
    )


@pytest.mark.real_mdns
@pytest.mark.usefixtures("netns")  # first: the simulator and HA's zeroconf open sockets in it
async def test_devices_found_over_real_mdns(
    hass: HomeAssistant, cloud: Cloud, config_entry: MockConfigEntry
) -> None:
    """Account devices become local over real mDNS; a DIY device starts a discovery flow."""
    lamp = await cloud.sim.add_device(cloud.owner, "1000000e01", uiid=1, name="Lamp")
    diy = await cloud.sim.lan.add_diy_device(uiid=1, deviceid="1000e0d001")
    assert await async_setup_component(hass, "zeroconf", {})
    await hass.async_block_till_done()

    await setup_entry(hass, config_entry)
    hub = async_get_hub(hass)
    assert hub.discovery.running
    assert hub.mdns_error is None
    lan = lan_of(config_entry)
    await wait_for(lambda: lan.registry.is_local("1000000e01"), timeout=20)
    await hass.services.async_call("switch", "turn_on", {"entity_id": "switch.lamp"}, blocking=True)
    device = cloud.sim.lan.device("1000000e01")
    assert device.requests[-1].data == {"switch": "on"}
    assert lamp.params["switch"] == "on"
    await lamp.report({"switch": "off"})
    await wait_for(lambda: state_of(hass, "switch.lamp") == "off")
    # The cloud's copy may come first; the record's update follows (mDNS spaces them ~1 s).
    await wait_for(lambda: hub.discovery.stats["announcements"] >= 2, timeout=10)

    def diy_flows() -> list[Any]:
        return [
            flow
            for flow in hass.config_entries.flow.async_progress_by_handler(DOMAIN)
            if flow["context"]["source"] == SOURCE_ZEROCONF
        ]

    await wait_for(diy_flows, timeout=20)
    (flow,) = diy_flows()
    assert flow["context"]["unique_id"] == diy.deviceid
    assert flow["step_id"] == "zeroconf_confirm"
