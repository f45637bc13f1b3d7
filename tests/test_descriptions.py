"""The entity description tables match uiid_entities.json, the project's source of facts.

Both directions, for every UIID of uiid-platforms.md and for the variants (the same UIID
reporting other params: DualR3 motor mode, POWCT supply, RF bridge remotes, unknown UIIDs).
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from random import Random
from typing import Any

from homeassistant.exceptions import ServiceValidationError
import pytest

from custom_components.ewelink import devices
from custom_components.ewelink.binary_sensor import BINARY_SENSORS
from custom_components.ewelink.button import BUTTONS
from custom_components.ewelink.climate import CLIMATES, HVACMode, Targets
from custom_components.ewelink.coolkit import Thing
from custom_components.ewelink.cover import COVERS, CoverState
from custom_components.ewelink.devices import (
    KNOWN_UIIDS,
    UiidPredicate,
    channel_count,
    conv,
    device_model,
    hours_kwh,
    hundred_days_kwh,
    kwh_histories,
    number,
    plausible_climate,
    profile_uiid,
    rf_channels,
)
from custom_components.ewelink.entity import EwelinkEntityDescription, description_applies
from custom_components.ewelink.event import EVENTS, Memory
from custom_components.ewelink.fan import FANS
from custom_components.ewelink.light import LIGHTS, LightRequest
from custom_components.ewelink.number import NUMBERS
from custom_components.ewelink.remote import REMOTES
from custom_components.ewelink.select import SELECTS
from custom_components.ewelink.sensor import SENSORS
from custom_components.ewelink.switch import SWITCHES
from simulator.uiids import default_params, spec_for

FACTS = json.loads((Path(__file__).parent / "fixtures" / "uiid_entities.json").read_text())
PLATFORMS: dict[str, tuple[EwelinkEntityDescription, ...]] = {
    "binary_sensor": BINARY_SENSORS,
    "button": BUTTONS,
    "climate": CLIMATES,
    "cover": COVERS,
    "event": EVENTS,
    "fan": FANS,
    "light": LIGHTS,
    "number": NUMBERS,
    "remote": REMOTES,
    "select": SELECTS,
    "sensor": SENSORS,
    "switch": SWITCHES,
}
WITH_UNITS = {"sensor", "number"}


def _thing(uiid: int, params: dict[str, Any] | None = None, **kwargs: Any) -> Thing:
    return Thing(
        deviceid="1000000001",
        name="Device",
        owner_apikey="owner",
        uiid=uiid,
        online=True,
        params=params or {},
        **kwargs,
    )


def _case_thing(case: dict[str, Any]) -> Thing:
    """The device of a case: it reports every documented param, plus the case's params."""
    params: dict[str, Any] = {fact["param"]: None for fact in case["entities"]}
    params.update(case.get("params", {}))
    return _thing(case["uiid"], params, tags=case.get("tags", {}))


CASES = {
    **{uiid: {"uiid": int(uiid), **spec} for uiid, spec in FACTS["uiids"].items()},
    **FACTS["variants"],
}


def _enum(value: Any) -> Any:
    return None if value is None else str(value)


def _key(platform: str, description: EwelinkEntityDescription) -> tuple[str, str, int | None]:
    return (platform, description.param, description.channel)


def _matches(fact: dict[str, Any], description: EwelinkEntityDescription) -> bool:
    return (
        description.param == fact["param"]
        and description.channel == fact["channel"]
        and fact.get("key", description.key) == description.key
    )


@pytest.mark.parametrize("case", sorted(CASES))
def test_every_documented_entity_is_described(case: str) -> None:
    """Each entity of uiid_entities.json exists once, with the documented classes."""
    thing = _case_thing(CASES[case])
    for fact in CASES[case]["entities"]:
        platform = fact["platform"]
        matches = [
            d for d in PLATFORMS[platform] if description_applies(d, thing) and _matches(fact, d)
        ]
        assert len(matches) == 1, f"{case}: {fact}"
        description: Any = matches[0]
        assert _enum(getattr(description, "device_class", None)) == fact["device_class"], fact
        assert _enum(getattr(description, "state_class", None)) == fact["state_class"], fact
        if platform in WITH_UNITS:
            assert description.native_unit_of_measurement == fact["unit"], fact
            assert description.scale == fact["scale"], fact
        assert _enum(description.entity_category) == fact["entity_category"], fact
        assert description.entity_registry_enabled_default is fact["enabled_default"], fact
        assert fact["param"] in description.reads, fact


# Entities that show what the cloud says of a device (its online flag), not one of its params:
# the facts file lists params per UIID, so these are checked in tests/test_runtime.py instead.
NOT_FROM_PARAMS = {("binary_sensor", "connectivity")}


@pytest.mark.parametrize("case", sorted(CASES))
def test_no_undocumented_entities(case: str) -> None:
    """No description applies to a device for which the facts list no such entity."""
    thing = _case_thing(CASES[case])
    documented = {
        (f["platform"], f["param"], f["channel"], f.get("key")) for f in CASES[case]["entities"]
    }
    keys: set[tuple[str, str]] = set()
    for platform, descriptions in PLATFORMS.items():
        for d in descriptions:
            if (platform, d.key) in NOT_FROM_PARAMS:
                continue
            if description_applies(d, thing):
                assert (platform, d.param, d.channel, None) in documented or (
                    platform,
                    d.param,
                    d.channel,
                    d.key,
                ) in documented, f"{case}: {_key(platform, d)} is not documented"
                assert (platform, d.key) not in keys, f"{case}: two {platform} entities {d.key}"
                keys.add((platform, d.key))


class Recording(dict[str, Any]):
    """Params that remember which keys were looked at."""

    def __init__(self, params: dict[str, Any]) -> None:
        """Start with nothing read."""
        super().__init__(params)
        self.read: set[str] = set()

    def get(self, key: str, default: Any = None) -> Any:  # type: ignore[override]
        """Record and read."""
        self.read.add(key)
        return super().get(key, default)

    def __getitem__(self, key: str) -> Any:
        """Record and read."""
        self.read.add(key)
        return super().__getitem__(key)

    def __contains__(self, key: object) -> bool:
        """Record and test."""
        self.read.add(str(key))
        return super().__contains__(key)


def _read_state(platform: str, description: Any, params: Recording) -> None:
    """Compute what the entity shows from `params`, the way the platform does."""
    readers = {
        "light": lambda: description.state_fn(params, description.kelvin),
        "cover": lambda: description.read_fn(params),
        "fan": lambda: description.read_fn(params),
        "climate": lambda: (
            description.read_fn(params),
            description.features_fn(params),
            description.hvac_modes_fn(params),
        ),
        "select": lambda: description.value_fn(params),
        "event": lambda: description.seen_fn(params, Memory()),
    }
    if platform in readers:
        readers[platform]()
    elif getattr(description, "value_fn", None) is not None:
        description.value_fn(params)
    else:
        params.get(description.param)


# Mode params set to a value the defaults do not have, to read the other branches too.
OTHER_MODES = {"mode": 4, "ltype": "color", "colorMode": "rgb", "zyx_mode": 2, "lightmode": 1,
               "ATCEnable": 1, "ATCMode": 1, "deviceType": "temperature", "mainSwitch": "on",
               "autoControlEnabled": 1, "calibState": True}  # fmt: skip


@pytest.mark.parametrize("case", sorted(CASES))
def test_descriptions_declare_every_param_they_read(case: str) -> None:
    """An entity's state depends only on its `reads` (pushes re-write entities by them).

    The state is computed from the simulator's full params for the UIID; every key looked at
    must be declared.
    """
    spec = CASES[case]
    params = default_params(spec_for(spec["uiid"]), mac="d0:27:00:00:00:01", rng=Random(1))
    params.update(spec.get("params", {}))
    thing = _thing(spec["uiid"], params, tags=spec.get("tags", {}))
    other_branch = {**params, **{k: v for k, v in OTHER_MODES.items() if k in params}}
    for platform, descriptions in PLATFORMS.items():
        for description in descriptions:
            if not description_applies(description, thing):
                continue
            for values in (params, other_branch):
                recording = Recording(values)
                _read_state(platform, description, recording)
                undeclared = recording.read - description.reads
                assert not undeclared, f"{case} {platform}.{description.key} reads {undeclared}"


JUNK: tuple[Any, ...] = (
    None,
    "junk",
    -1,
    10**9,
    10**307,
    -(10**307),
    10**400,
    1.5,
    True,
    [],
    [1, "x"],
    {},
    {"outlet": "x"},
)


@pytest.mark.parametrize("case", sorted(CASES))
def test_junk_params_never_raise(case: str) -> None:
    """Every param of every entity may hold anything (untrusted input): reading never raises."""
    spec = CASES[case]
    params = default_params(spec_for(spec["uiid"]), mac="d0:27:00:00:00:01", rng=Random(1))
    params.update(spec.get("params", {}))
    thing = _thing(spec["uiid"], params, tags=spec.get("tags", {}))
    applying = [
        (platform, d)
        for platform, descriptions in PLATFORMS.items()
        for d in descriptions
        if description_applies(d, thing)
    ]
    for key in params:
        for junk in JUNK:
            values = Recording({**params, key: junk})
            junk_thing = _thing(spec["uiid"], values, tags={"zyx_info": junk})
            for platform, description in applying:
                description.exists_fn(junk_thing)
                _read_state(platform, description, values)
                _write_and_handle(platform, description, values, junk_thing)


def _write_and_handle(platform: str, description: Any, params: Any, thing: Thing) -> None:
    """Build commands from (junk) params and handle (junk) messages; only validation errors."""
    message = dict(params)
    calls: list[Any] = {
        "light": [
            lambda: (
                description.set_fn
                and description.set_fn(
                    params, LightRequest(brightness=100, rgb_color=(1, 2, 3)), description.kelvin
                )
            ),
            lambda: (
                description.set_fn
                and description.set_fn(
                    params, LightRequest(color_temp_kelvin=3000), description.kelvin
                )
            ),
        ],
        "cover": [lambda: description.message_fn and description.message_fn(message, CoverState())],
        "climate": [
            lambda: description.mode_fn(params, HVACMode.HEAT),
            lambda: description.targets_fn(params, Targets(target=20, low=18, high=22), None),
        ],
        "event": [lambda: description.event_fn(message, Memory())],
        "select": [lambda: description.command_fn(params, "on")],
        "number": [lambda: description.command_fn(params, 1.0)],
        "switch": [lambda: description.command_fn and description.command_fn(thing, "on")],
        "fan": [lambda: description.on_fn(1)],
    }.get(platform, [])
    for call in calls:
        with contextlib.suppress(ServiceValidationError):
            call()


def test_every_uiid_of_the_reference_is_known() -> None:
    """Every UIID of the facts has its own table; every family names known UIIDs only."""
    assert {int(uiid) for uiid in FACTS["uiids"]} <= KNOWN_UIIDS
    for name in dir(devices):
        value = getattr(devices, name)
        if name.isupper() and isinstance(value, (frozenset, dict)) and name != "MODEL_NAMES":
            uiids = set(value)
            if all(isinstance(u, int) for u in uiids):
                assert uiids <= KNOWN_UIIDS, (name, uiids - KNOWN_UIIDS)
    for descriptions in PLATFORMS.values():
        for d in descriptions:
            assert isinstance(d.exists_fn, UiidPredicate), d.key
            assert d.exists_fn.uiids <= KNOWN_UIIDS | {1, 4}, d.key


def test_unknown_uiids_fall_back_on_their_params() -> None:
    """Unknown UIIDs: `switch` profiles as UIID 1, `switches` as four channels at most."""
    assert profile_uiid(_thing(9999, {"switch": "on"})) == 1
    assert profile_uiid(_thing(9999, {"switches": []})) == 4
    assert profile_uiid(_thing(9999, {"foo": 1})) == 9999
    three = [{"outlet": n, "switch": "off"} for n in (0, 1, 2, 2, 7)]
    assert channel_count(_thing(9999, {"switches": three})) == 3
    assert channel_count(_thing(9999, {"switches": "junk"})) == 0
    keys = {
        d.key
        for d in SWITCHES + SENSORS + NUMBERS
        if description_applies(d, _thing(9999, {"switch": "on", "pulse": "off", "rssi": -50}))
    }
    assert keys == {"switch", "rssi", "inching"}


def test_device_model_for_the_device_page() -> None:
    """The cloud's model, else the UIID's catalogue name; never "UIID 190"."""
    assert device_model(_thing(190, model="POWR316D")) == "POWR316D"
    assert device_model(_thing(190)) == "POWR316 / POWR320D / S60 / POWCT"
    assert device_model(_thing(9999)) is None


def test_rf_channels_come_from_tags_and_learned_codes() -> None:
    """Remote names prefix button names; alarms take the remote's name; unlearned are absent."""
    case = FACTS["variants"]["28/remotes"]
    thing = _thing(28, dict(case["params"]), tags=case["tags"])
    assert rf_channels(thing) == {0: ("Gate Open", "2"), 1: ("Gate Close", "2"), 4: ("Window", "6")}
    assert rf_channels(_thing(28, {"rfList": "junk"}, tags={"zyx_info": "junk"})) == {}


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


def test_linear_maps_round_and_clamp() -> None:
    """conv maps ranges both ways, rounded, clamped to the target (uiid-platforms.md §1)."""
    assert conv(1, (1, 255), (25, 255)) == 25
    assert conv(255, (1, 255), (25, 255)) == 255
    assert conv(128, (1, 255), (1, 100)) == 50
    assert conv(300, (0, 100), (1, 255)) == 255
    assert conv(50, (0, 100), (6500, 2000)) == 4250


def test_energy_history_decoders() -> None:
    """Today's value from each history encoding (uiid-params.md §4.15)."""
    assert hundred_days_kwh("190101" + "0" * 594) == pytest.approx(25.11)
    assert hundred_days_kwh("190301") == pytest.approx(25.31)
    assert hundred_days_kwh("zz") is None
    assert kwh_histories("0a25" + "0000") == pytest.approx(10.25)
    assert kwh_histories("0x") is None
    assert hours_kwh("105" + "000") == pytest.approx(1.05)
    assert hours_kwh(5) is None
