"""Diagnostics with LAN control: the path per device, the last LAN address, never a key."""

from __future__ import annotations

import json
from typing import Any

from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.ewelink.const import LAN_MODE_CLOUD
from tests.common import Cloud, wait_for
from tests.conftest import setup_entry
from tests.lan_helpers import add_entry, feed_lan, lan_of, sim_config  # noqa: F401  (fixture)
from tests.test_lan_runtime import lose_cloud


async def test_diagnostics_show_paths_and_addresses_without_keys(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    cloud: Cloud,
    config_entry: MockConfigEntry,
) -> None:
    """Per device: cloud, LAN or both, and where the LAN heard it; no devicekey anywhere."""
    lamp = await cloud.sim.add_device(cloud.owner, "1000000d01", uiid=1, name="Lamp")
    bulb = await cloud.sim.add_device(cloud.owner, "1000000d02", uiid=22, name="Bulb")
    shared = await cloud.sim.add_device(
        cloud.friend, "1000000d03", uiid=1, name="Shared", shared_with=[cloud.owner]
    )
    feed_lan(hass, cloud.sim)
    await setup_entry(hass, config_entry)
    lan = lan_of(config_entry)
    await wait_for(lambda: lan.registry.is_local("1000000d01"))
    await wait_for(lambda: lan.registry.is_local("1000000d03"))

    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, config_entry)
    devices = {device["deviceid"]: device for device in diagnostics["devices"]}
    assert devices["1000000d01"]["path"] == "both"
    assert devices["1000000d02"]["path"] == "cloud"
    assert devices["1000000d02"]["lan"] is None
    heard = devices["1000000d01"]["lan"]
    assert (heard["host"], heard["port"]) == ("127.0.0.1", cloud.sim.lan.device("1000000d01").port)
    assert heard["encrypted"] is True
    assert heard["local"] is True
    assert diagnostics["lan"]["mode"] == "auto"
    assert diagnostics["lan"]["browsing"] is True
    assert diagnostics["lan"]["stats"]["announcements"] >= 2

    text = json.dumps(diagnostics)
    for device in (lamp, bulb, shared):
        assert device.factory.apikey not in text

    await lose_cloud(hass, cloud, config_entry)
    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, config_entry)
    devices = {device["deviceid"]: device for device in diagnostics["devices"]}
    assert devices["1000000d01"]["path"] == "lan"
    assert devices["1000000d02"]["path"] == "none"


async def test_diagnostics_of_a_cloud_only_entry(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    cloud: Cloud,
    entry_data: dict[str, Any],
) -> None:
    """Cloud only: no LAN section; the path is the cloud's."""
    await cloud.sim.add_device(cloud.owner, "1000000d04", uiid=1, name="Lamp")
    entry = add_entry(hass, cloud, entry_data, LAN_MODE_CLOUD)
    await setup_entry(hass, entry)
    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, entry)
    assert diagnostics["lan"] is None
    (device,) = diagnostics["devices"]
    assert (device["path"], device["lan"]) == ("cloud", None)
