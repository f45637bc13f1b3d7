"""The entities each UIID gets: ids, unique ids, classes, units, translation keys, enabled.

One Home Assistant setup holds a device of every UIID and variant of uiid_entities.json (the
facts test checks the descriptions; this snapshot shows what a user gets).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er
from pytest_homeassistant_custom_component.common import MockConfigEntry
from syrupy.assertion import SnapshotAssertion

from custom_components.ewelink.const import DOMAIN
from simulator import VirtualDevice
from simulator.uiids import spec_for
from tests.common import Cloud, wait_for
from tests.conftest import setup_entry

FACTS = json.loads((Path(__file__).parent.parent / "fixtures" / "uiid_entities.json").read_text())
# Unknown UIIDs are left to test_switch (the simulator plays them as UIID 1 switches).
CASES: dict[str, dict[str, Any]] = {
    **{uiid: {"uiid": int(uiid), **spec} for uiid, spec in FACTS["uiids"].items()},
    **{name: case for name, case in FACTS["variants"].items() if case["uiid"] != 9999},
}
# Sub-devices need a parent: the zigbee bridge, the SPM main unit, a DualR3 for BLE remotes.
PARENTS = {"zigbee": "66", 130: "128", 174: "126", 177: "126"}


def _entry(entity: er.RegistryEntry) -> dict[str, Any]:
    return {
        "entity_id": entity.entity_id,
        "unique_id": entity.unique_id,
        "device_class": entity.original_device_class,
        "unit": entity.unit_of_measurement,
        "translation_key": entity.translation_key,
        "entity_category": entity.entity_category,
        "enabled": entity.disabled_by is None,
        "capabilities": entity.capabilities,
        "options": dict(entity.options),
    }


async def test_entities_of_every_uiid(
    hass: HomeAssistant,
    cloud: Cloud,
    config_entry: MockConfigEntry,
    device_registry: dr.DeviceRegistry,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
) -> None:
    """A device of each UIID (and variant) gets exactly its snapshot's entities."""
    devices: dict[str, VirtualDevice] = {}
    ordered = sorted(CASES, key=lambda name: (name in FACTS["variants"], _parent_of(name) != ""))
    for name in ordered:
        case = CASES[name]
        parent = devices.get(_parent_of(name)) if _parent_of(name) else None
        devices[name] = await cloud.sim.add_device(
            cloud.owner,
            _deviceid(name),
            uiid=case["uiid"],
            name=f"UIID {name.replace('/', ' ')}",
            params=dict(case.get("params", {})),
            tags=dict(case.get("tags", {})),
            parent=parent,
            wait=False,
        )
    for device in devices.values():
        await device.wait_online(20)
    await setup_entry(hass, config_entry)
    await wait_for(lambda: all(d.deviceid in config_entry.runtime_data.coordinator.data
                               for d in devices.values()))  # fmt: skip

    for name in sorted(CASES):
        device = device_registry.async_get_device_by_identifier(
            (DOMAIN, devices[name].deviceid), config_entry.entry_id
        )
        assert device is not None, name
        entities = sorted(
            (_entry(e) for e in er.async_entries_for_device(entity_registry, device.id, True)),
            key=lambda e: e["entity_id"],
        )
        assert {"model": device.model, "entities": entities} == snapshot(name=name)


def _deviceid(name: str) -> str:
    """A stable deviceid per case (entity ids and unique ids appear in the snapshots)."""
    return "1" + hashlib.sha1(name.encode(), usedforsecurity=False).hexdigest()[:9]


def _parent_of(name: str) -> str:
    uiid = CASES[name]["uiid"]
    if uiid in PARENTS:
        return str(PARENTS[uiid])
    return PARENTS["zigbee"] if spec_for(uiid).zigbee else ""
