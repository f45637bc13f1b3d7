"""Diagnostics: useful content, and no secret anywhere in the download."""

from __future__ import annotations

import json

from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.ewelink.const import CONF_TOKEN
from tests.common import APP_SECRET, EMAIL, PASSWORD, Cloud
from tests.conftest import setup_entry


async def test_diagnostics_redact_every_secret(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    cloud: Cloud,
    config_entry: MockConfigEntry,
) -> None:
    """Tokens, secrets, apikeys, device keys, account, MACs and Wi-Fi names never leave."""
    lamp = await cloud.sim.add_device(cloud.owner, "1000000301", uiid=1, name="Lamp")
    await cloud.sim.add_device(
        cloud.friend, "1000000302", uiid=32, name="Shared", shared_with=[cloud.owner]
    )
    await setup_entry(hass, config_entry)
    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, config_entry)

    assert diagnostics["connection"]["state"] == "connected"
    assert diagnostics["connection"]["connects"] == 1
    devices = {device["deviceid"]: device for device in diagnostics["devices"]}
    assert devices["1000000301"]["uiid"] == 1
    assert devices["1000000301"]["params"]["switch"] == "off"
    assert devices["1000000302"]["shared"] is True

    text = json.dumps(diagnostics)
    token = config_entry.data[CONF_TOKEN]
    secrets = {
        "access token": token["access_token"],
        "refresh token": token["refresh_token"],
        "app secret": APP_SECRET,
        "password": PASSWORD,
        "e-mail": EMAIL,
        "user apikey": cloud.owner.apikey,
        "owner apikey": cloud.friend.apikey,
        "device key": lamp.factory.apikey,
        "station MAC": lamp.params["staMac"],
        "Wi-Fi name": lamp.params["ssid"],
        "BSSID": lamp.params["bssid"],
    }
    for what, secret in secrets.items():
        assert secret, what
        assert secret not in text, f"{what} leaked into diagnostics"
