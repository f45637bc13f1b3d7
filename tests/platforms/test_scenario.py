"""The default scenario (scripts/develop) shows a device of every platform."""

from __future__ import annotations

from random import Random

from custom_components.ewelink.coolkit import Thing
from custom_components.ewelink.entity import description_applies
from simulator.scenario import default_scenario
from simulator.uiids import default_params, merge_params, spec_for
from tests.test_descriptions import PLATFORMS


def test_default_scenario_has_every_platform() -> None:
    """Each platform has an entity enabled by default on some device of the default world."""
    shown: set[str] = set()
    for device in default_scenario()["devices"]:
        params = default_params(spec_for(device["uiid"]), mac="d0:27:00:00:00:01", rng=Random(1))
        merge_params(params, device.get("params") or {})
        thing = Thing(
            deviceid=device["deviceid"],
            name=device["name"],
            owner_apikey="owner",
            uiid=device["uiid"],
            online=True,
            params=params,
            tags=device.get("tags") or {},
        )
        shown |= {
            platform
            for platform, descriptions in PLATFORMS.items()
            for description in descriptions
            if description_applies(description, thing)
            and description.entity_registry_enabled_default
        }
    assert shown == set(PLATFORMS)
