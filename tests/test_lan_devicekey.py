"""`Thing.devicekey`: parsed and validated at the boundary, never in a repr, kept by the cache."""

from __future__ import annotations

import logging
from typing import Any

from homeassistant.core import HomeAssistant
import pytest

from custom_components.ewelink.cache import Snapshot, ThingCache
from custom_components.ewelink.coolkit import Thing

KEY = "9b0810bc-557a-406c-8266-614767890531"


def item(**data: Any) -> dict[str, Any]:
    """Return a thing-list item of an own device with `data` merged into its itemData."""
    return {
        "itemType": 1,
        "itemData": {"deviceid": "1000abcdef", "apikey": "owner-apikey", "name": "Lamp", **data},
    }


def test_devicekey_is_parsed_and_hidden(caplog: pytest.LogCaptureFixture) -> None:
    """The thing list's key is kept, but no repr (hence no log line) ever shows it."""
    thing = Thing.from_api(item(devicekey=KEY))
    assert thing is not None
    assert thing.devicekey == KEY
    assert KEY not in repr(thing)
    with caplog.at_level(logging.DEBUG):
        logging.getLogger("custom_components.ewelink").debug("thing %s / %r", thing, thing)
    assert KEY not in caplog.text


@pytest.mark.parametrize(
    "value",
    [None, "", 42, ["k"], {"k": 1}, "has space", "ctrl\x01", "ünïcode", "x" * 129, "\ud800"],
)
def test_unusable_devicekeys_are_dropped(value: object) -> None:
    """A key that cannot be one (type, spaces, control or non-ASCII text, length) is None."""
    thing = Thing.from_api(item(devicekey=value))
    assert thing is not None  # the device itself stays
    assert thing.devicekey is None


async def test_cache_keeps_the_devicekey(hass: HomeAssistant) -> None:
    """The private cache stores the key (LAN control needs it while the cloud is away)."""
    cache = ThingCache(hass, "entry-with-keys", "owner-apikey")
    thing = Thing.from_api(item(devicekey=KEY))
    assert thing is not None
    snapshot = Snapshot([], [thing], [])
    cache.async_schedule_save(lambda: snapshot)
    await cache.async_flush()
    loaded = await ThingCache(hass, "entry-with-keys", "owner-apikey").async_load()
    assert loaded is not None
    (restored,) = loaded.things
    assert restored.devicekey == KEY
    assert restored.owner_apikey == "owner-apikey"


async def test_damaged_cached_devicekey_is_dropped(hass: HomeAssistant, hass_storage: Any) -> None:
    """A cached key of the wrong shape is dropped; the device itself is still restored."""
    hass_storage["ewelink.entry-damaged"] = {
        "version": 1,
        "key": "ewelink.entry-damaged",
        "data": {
            "homes": [],
            "things": [
                {"deviceid": "1000abcdef", "name": "Lamp", "uiid": 1, "online": True,
                 "params": {}, "tags": {}, "own": True, "devicekey": {"not": "a key"}},
            ],
        },
    }  # fmt: skip
    loaded = await ThingCache(hass, "entry-damaged", "owner-apikey").async_load()
    assert loaded is not None
    (restored,) = loaded.things
    assert restored.deviceid == "1000abcdef"
    assert restored.devicekey is None
