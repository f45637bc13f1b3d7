"""The entity description tables match uiid_entities.json, the project's source of facts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from custom_components.ewelink.binary_sensor import BINARY_SENSORS
from custom_components.ewelink.coolkit import Thing
from custom_components.ewelink.devices import (
    channel_count,
    hours_kwh,
    hundred_days_kwh,
    kwh_histories,
    number,
    plausible_climate,
    profile_uiid,
)
from custom_components.ewelink.entity import EwelinkEntityDescription
from custom_components.ewelink.sensor import SENSORS
from custom_components.ewelink.switch import SWITCHES

FACTS = json.loads((Path(__file__).parent / "fixtures" / "uiid_entities.json").read_text())["uiids"]
PLATFORMS: dict[str, tuple[EwelinkEntityDescription, ...]] = {
    "switch": SWITCHES,
    "sensor": SENSORS,
    "binary_sensor": BINARY_SENSORS,
}


def _thing(uiid: int, params: dict[str, Any] | None = None) -> Thing:
    return Thing(
        deviceid="1000000001",
        name="Device",
        owner_apikey="owner",
        uiid=uiid,
        online=True,
        params=params or {},
    )


def _enum(value: Any) -> Any:
    return None if value is None else str(value)


CASES = [
    (int(uiid), fact)
    for uiid, spec in FACTS.items()
    for fact in spec["entities"]
    if fact["platform"] in PLATFORMS
]


@pytest.mark.parametrize(
    ("uiid", "fact"), CASES, ids=[f"{u}-{f['param']}-{f['channel']}" for u, f in CASES]
)
def test_every_documented_entity_is_described(uiid: int, fact: dict[str, Any]) -> None:
    """Each switch/sensor/binary_sensor of uiid_entities.json exists with the same classes."""
    thing = _thing(uiid)
    matches = [
        d
        for d in PLATFORMS[fact["platform"]]
        if d.exists_fn(thing)
        and d.param == fact["param"]
        and (fact["param"] != "switches" or d.channel == fact["channel"])
    ]
    assert len(matches) == 1, f"UIID {uiid}: {fact}"
    description: Any = matches[0]
    assert _enum(getattr(description, "device_class", None)) == fact["device_class"]
    assert _enum(getattr(description, "state_class", None)) == fact["state_class"]
    assert getattr(description, "native_unit_of_measurement", None) == fact["unit"]
    assert _enum(description.entity_category) == fact["entity_category"]
    assert description.entity_registry_enabled_default is fact["enabled_default"]
    if fact["platform"] == "sensor":
        assert description.scale == fact["scale"]


@pytest.mark.parametrize("uiid", sorted(int(u) for u in FACTS))
def test_no_undocumented_entities(uiid: int) -> None:
    """No description applies to a UIID for which the facts list no such entity."""
    thing = _thing(uiid)
    documented = {
        (fact["platform"], fact["param"], fact["channel"] if fact["param"] == "switches" else None)
        for fact in FACTS[str(uiid)]["entities"]
    }
    for platform, descriptions in PLATFORMS.items():
        for d in descriptions:
            if d.exists_fn(thing):
                key = (platform, d.param, d.channel if d.param == "switches" else None)
                assert key in documented, f"UIID {uiid}: {key} is not documented"


def test_unknown_uiids_fall_back_on_their_params() -> None:
    """Unknown UIIDs with `switch` get the UIID 1 set; with `switches` four channels."""
    assert profile_uiid(_thing(9999, {"switch": "on"})) == 1
    assert profile_uiid(_thing(9999, {"switches": []})) == 4
    assert channel_count(_thing(9999, {"switches": []})) == 4
    assert profile_uiid(_thing(9999, {"foo": 1})) == 9999
    keys = {d.key for d in SWITCHES + SENSORS if d.exists_fn(_thing(9999, {"switch": "on"}))}
    assert keys == {"switch", "led", "rssi", "inching"}


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("230.5", 230.5), (12, 12.0), ("abc", None), (None, None), (True, None), ("nan", None)],
)
def test_number_parsing(raw: object, expected: float | None) -> None:
    """Numbers may come as strings; junk is not a value."""
    assert number(raw) == expected


@pytest.mark.parametrize(
    ("value", "plausible"),
    [(23.5, True), (-5.0, True), (0.0, False), (-273.0, False), (300.0, False)],
)
def test_climate_placeholders(value: float, plausible: bool) -> None:
    """0 and +-270 are placeholders, not temperatures (§13.4)."""
    assert plausible_climate(value) is plausible


def test_energy_history_decoders() -> None:
    """Today's value from each history encoding (uiid-params.md §4.15)."""
    assert hundred_days_kwh("190101" + "0" * 594) == pytest.approx(25.11)
    assert hundred_days_kwh("190301") == pytest.approx(25.31)
    assert hundred_days_kwh("zz") is None
    assert kwh_histories("0a25" + "0000") == pytest.approx(10.25)
    assert kwh_histories("0x") is None
    assert hours_kwh("105" + "000") == pytest.approx(1.05)
    assert hours_kwh(5) is None
