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
from tests.common import APP_SECRET, EMAIL, PASSWORD, Cloud, wait_for
from tests.conftest import setup_entry


async def test_diagnostics_redact_every_secret(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    cloud: Cloud,
    config_entry: MockConfigEntry,
) -> None:
    """Tokens, secrets, apikeys, device keys, account, MACs and Wi-Fi names never leave."""
    lamp = await cloud.sim.add_device(cloud.owner, "1000000301", uiid=1, name="Lamp")
    shared = await cloud.sim.add_device(
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
        "device key of a shared device": shared.factory.apikey,
        "station MAC": lamp.params["staMac"],
        "Wi-Fi name": lamp.params["ssid"],
        "BSSID": lamp.params["bssid"],
    }
    for what, secret in secrets.items():
        assert secret, what
        assert secret not in text, f"{what} leaked into diagnostics"


async def test_diagnostics_survive_hostile_params(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    cloud: Cloud,
    config_entry: MockConfigEntry,
) -> None:
    """Deep (up to 50 000 levels) and unencodable values do not break the download (#9.5).

    Regression: a deeply nested frame made the diagnostics download fail with HTTP 500.
    """
    await cloud.sim.add_device(cloud.owner, "1000000303", uiid=1, name="Lamp")
    await setup_entry(hass, config_entry)
    deep: object = "bottom"
    for _ in range(500):
        deep = {"level": deep}
    frame = json.dumps(
        {
            "action": "update",
            "deviceid": "1000000303",
            "apikey": cloud.owner.apikey,
            "params": {"deep": deep, "long": "x" * 100000, "switch": "on"},
        }
    ).replace('"switch"', '"bad\\ud800", "switch"', 1)
    frame = frame.replace('"bad\\ud800", "switch"', '"bad\\ud800": 1, "switch"', 1)
    # A 50 000-deep frame (too deep for any JSON parser's recursion) comes first.
    head = json.dumps({"action": "update", "deviceid": "1000000303", "apikey": cloud.owner.apikey})
    abyss = head[:-1] + ', "params": {"deep": ' + '{"level": ' * 50000 + '"bottom"' + "}" * 50002
    for conn in cloud.sim.hub.by_apikey[cloud.owner.apikey]:
        conn.send(abyss)
        conn.send(frame)
    coordinator = config_entry.runtime_data.coordinator
    await wait_for(lambda: coordinator.data["1000000303"].params.get("switch") == "on")
    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, config_entry)
    params = next(d for d in diagnostics["devices"] if d["deviceid"] == "1000000303")["params"]
    assert params["switch"] == "on"
    # The boundary (coolkit.sanitize_params) may drop these; whatever is kept is bounded.
    assert len(params.get("long", "")) < 100000
    assert len(json.dumps(params.get("deep"))) < 1000
    assert not any("\ud800" in key for key in params)
    json.dumps(diagnostics).encode()  # the download is valid UTF-8 JSON
