"""How pushed params merge into a device's state, and what they change (no network needed).

The coordinator writes only the entities whose keys a change touches, so these rules decide
what Home Assistant sees; the values are what devices and the cloud really send (partial and
full channel arrays), plus what hostile input looks like.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import custom_components.ewelink
from custom_components.ewelink.cache import json_safe
from custom_components.ewelink.coolkit import (
    AckTimeoutError,
    CommandRejectedError,
    CoolkitApiError,
    CoolkitConnectionError,
    DeviceOfflineError,
    DeviceTimeoutError,
    NotConnectedError,
    RateLimitedError,
    ReauthRequiredError,
    SessionTakenOverError,
    merge_params,
)
from custom_components.ewelink.coordinator import (
    _changed_keys,
    _command_error_key,
    _merge,
    read_keys,
)

EXCEPTIONS = json.loads(
    (Path(custom_components.ewelink.__file__).parent / "translations" / "en.json").read_text()
)["exceptions"]


def switches(*states: str) -> list[dict[str, Any]]:
    """Return a `switches` array with one item per outlet."""
    return [{"outlet": n, "switch": state} for n, state in enumerate(states)]


def test_a_repeated_array_changes_only_the_toggled_outlet() -> None:
    """A full array that repeats every channel changes the one that differs."""
    state: dict[str, Any] = {"switches": switches("off", "off", "off", "off"), "rssi": -50}
    keys = _merge(state, {"switches": switches("off", "on", "off", "off"), "rssi": -50})
    assert keys == ["switches", ("switches", 1)]
    assert state["switches"] == switches("off", "on", "off", "off")


def test_partial_and_unordered_arrays_merge_by_outlet() -> None:
    """Pushes may carry only some channels, in any order; new outlets are added in order."""
    state: dict[str, Any] = {"switches": switches("off", "off")}
    assert _merge(state, {"switches": [{"outlet": 1, "switch": "off"}]}) == []
    keys = _merge(
        state, {"switches": [{"outlet": 3, "switch": "on"}, {"outlet": 0, "switch": "on"}]}
    )
    assert keys == ["switches", ("switches", 3), ("switches", 0)]
    assert [item["outlet"] for item in state["switches"]] == [0, 1, 3]
    assert state["switches"][0] == {"outlet": 0, "switch": "on"}
    assert _merge(state, {"switches": [{"outlet": 0}]}) == []  # adds nothing new


def test_the_merge_agrees_with_the_clients_merge() -> None:
    """The coordinator's array merge gives what `merge_params` gives."""
    pushes = [
        {"switches": switches("on", "off", "off", "off")},
        {"switches": [{"outlet": 2, "switch": "on"}]},
        {"switches": [{"outlet": 1, "switch": "on"}, {"outlet": 0, "switch": "off"}]},
        {"configure": [{"outlet": 0, "startup": "stay"}], "sledOnline": "off"},
    ]
    ours: dict[str, Any] = {"switches": switches("off", "off", "off", "off")}
    theirs: dict[str, Any] = json.loads(json.dumps(ours))
    for push in pushes:
        _merge(ours, push)
        merge_params(theirs, push)
    assert ours == theirs


def test_hostile_items_are_dropped() -> None:
    """Items without an integer outlet, and arrays that are not lists, change nothing."""
    state: dict[str, Any] = {"switches": switches("off")}
    push = {"switches": [{"outlet": [1], "switch": "on"}, {"outlet": "0"}, 5, None]}
    assert _merge(state, push) == []
    assert state["switches"] == switches("off")
    assert _merge(state, {"switches": "garbage"}) == ["switches"]  # a plain value: replaced
    assert state["switches"] == "garbage"
    assert _merge(state, {"switches": switches("on")}) == ["switches", ("switches", 0)]


def test_changed_keys_between_two_states() -> None:
    """A read compared with the state before: changed, added and removed keys and outlets."""
    before = {"switches": switches("off", "on"), "rssi": -50, "gone": 1}
    after = {"switches": switches("off", "off"), "rssi": -50, "new": 2}
    assert sorted(map(str, _changed_keys(before, after))) == sorted(
        map(str, ["switches", ("switches", 1), "new", "gone"])
    )
    assert _changed_keys(before, dict(before)) == []
    assert _changed_keys({"switches": "x"}, {"switches": switches("on")}) == [
        "switches",
        ("switches", 0),
    ]


def test_read_keys() -> None:
    """A channel entity of a channel array reads its outlet; other params are read whole."""
    assert read_keys("switches", 2) == {("switches", 2)}
    assert read_keys("current_01", 1, ("switches",)) == {"current_01", "switches"}
    assert read_keys("switch", None) == {"switch"}


@pytest.mark.parametrize(
    ("error", "key"),
    [
        (DeviceOfflineError(4002, "offline"), "device_offline"),
        (DeviceTimeoutError(504, "late"), "device_timeout"),
        (AckTimeoutError(504, "no answer"), "device_timeout"),
        (NotConnectedError("down"), "not_connected"),
        (CoolkitConnectionError("HTTP 500"), "not_connected"),
        (CommandRejectedError(406, "no"), "command_rejected"),
        (RateLimitedError(412, "too many"), "command_rate_limited"),
        (ReauthRequiredError("gone"), "command_signed_out"),
        (SessionTakenOverError("taken"), "command_signed_out"),
        (CoolkitApiError(400, "bad"), "command_failed"),
    ],
)
def test_command_errors_have_translations(error: Exception, key: str) -> None:
    """Every command failure maps to a translated message naming the device."""
    assert _command_error_key(error) == key  # type: ignore[arg-type]
    assert "{device}" in EXCEPTIONS[key]["message"]


def test_json_safe_bounds_what_devices_send() -> None:
    """Deep, long, unencodable and non-JSON values become something any encoder accepts."""
    deep: Any = []
    for _ in range(100):
        deep = [deep]
    value = {
        "deep": deep,
        "long": "x" * 50,
        "bad\ud800": "\udfff",
        "many": list(range(20)),
        "tuple": (1, 2),
        "other": object,
    }
    safe = json_safe(value, depth=5, items=10, string=20)
    text = json.dumps(safe, ensure_ascii=False).encode()  # would fail on a lone surrogate
    assert text
    assert json.dumps(safe["deep"]) == "[[[[null]]]]"
    assert safe["long"] == "x" * 20
    assert safe["many"] == list(range(10))
    assert safe["tuple"] == [1, 2]
    assert safe["other"].startswith("<class")
    assert "bad?" in safe
