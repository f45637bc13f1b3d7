"""Pure parts of the LAN glue: the arbiter between paths, the iFan translation."""

from __future__ import annotations

from typing import Any

import pytest

from custom_components.ewelink.lan_arbiter import ECHO_WINDOW, SourceArbiter, leaves
from custom_components.ewelink.lan_control import ifan_to_cloud, ifan_to_lan


class Clock:
    """A settable monotonic clock."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_leaves_split_channel_arrays_by_outlet_and_field() -> None:
    """Channel items become (array, outlet, field) leaves; bad items are skipped."""
    params = {
        "switch": "on",
        "switches": [{"outlet": 0, "switch": "on"}, {"outlet": "x"}, "junk", {"outlet": 1}],
        "localKeyPass": {"outlet": 0, "key": 1},
    }
    assert leaves(params) == {
        "switch": "on",
        ("switches", 0, "switch"): "on",
        "localKeyPass": {"outlet": 0, "key": 1},
    }


def test_late_copy_is_dropped_and_echo_is_no_news() -> None:
    """LAN says on then off; the cloud's "on" is late, its "off" an echo; later it is news."""
    clock = Clock()
    arbiter = SourceArbiter(clock)
    state: dict[str, Any] = {"switch": "on"}
    assert arbiter.judge("d", "lan", {"switch": "on"}, {}).apply == {"switch": "on"}
    clock.now += 0.2
    arbiter.judge("d", "lan", {"switch": "off"}, state)
    state["switch"] = "off"
    late = arbiter.judge("d", "cloud", {"switch": "on", "rssi": -50}, state)
    assert late.apply == {"rssi": -50}
    assert late.news == {"rssi": -50}
    assert late.dropped == 1
    echo = arbiter.judge("d", "cloud", {"switch": "off"}, state)
    assert echo.apply == {"switch": "off"}
    assert echo.news == {}
    clock.now += ECHO_WINDOW + 0.1
    fresh = arbiter.judge("d", "cloud", {"switch": "on"}, state)
    assert fresh.apply == fresh.news == {"switch": "on"}


def test_a_path_that_changed_the_value_since_reports_news() -> None:
    """The cloud said on; the LAN then says off and on again: the LAN's "on" is news.

    Regression (browser test with the cloud stopped): the LAN's "on" within 3 s of the cloud's
    "on" was taken for a late copy and dropped, so the entity stayed off.
    """
    clock = Clock()
    arbiter = SourceArbiter(clock)
    state: dict[str, Any] = {"switch": "on"}
    arbiter.judge("d", "cloud", {"switch": "on"}, {})
    clock.now += 1
    assert arbiter.judge("d", "lan", {"switch": "off"}, state).apply == {"switch": "off"}
    state["switch"] = "off"
    clock.now += 0.5
    again = arbiter.judge("d", "lan", {"switch": "on"}, state)
    assert again.apply == again.news == {"switch": "on"}
    assert again.dropped == 0


def test_lan_reports_are_never_late() -> None:
    """The cloud said on; HA turned the device off (no LAN echo yet); the LAN says on: news.

    Regression (browser test with the cloud stopped): the button pressed on the device right
    after an HA command was dropped as the cloud's late "on", and the entity stayed off.
    """
    clock = Clock()
    arbiter = SourceArbiter(clock)
    arbiter.judge("d", "cloud", {"switch": "on"}, {})
    clock.now += 1
    pressed = arbiter.judge("d", "lan", {"switch": "on"}, {"switch": "off"})
    assert pressed.apply == pressed.news == {"switch": "on"}
    echo = arbiter.judge("d", "lan", {"switch": "on"}, {"switch": "on"})
    assert echo.news == {}


def test_channel_items_are_judged_per_field() -> None:
    """A partial late channel item loses only its stale field; empty items disappear."""
    clock = Clock()
    arbiter = SourceArbiter(clock)
    arbiter.judge("d", "lan", {"switches": [{"outlet": 0, "switch": "on"}]}, {})
    state = {"switches": [{"outlet": 0, "switch": "off"}, {"outlet": 1, "switch": "off"}]}
    verdict = arbiter.judge(
        "d",
        "cloud",
        {"switches": [{"outlet": 0, "switch": "on"}, {"outlet": 1, "switch": "on"}]},
        state,
    )
    assert verdict.apply == {"switches": [{"outlet": 1, "switch": "on"}]}
    only_late = arbiter.judge("d", "cloud", {"switches": [{"outlet": 0, "switch": "on"}]}, state)
    assert only_late.apply == {}


def test_same_path_repeats_are_never_dropped_and_types_matter() -> None:
    """A path's own repeats pass; 1 and True are different values."""
    clock = Clock()
    arbiter = SourceArbiter(clock)
    arbiter.judge("d", "lan", {"flag": 1}, {})
    assert arbiter.judge("d", "lan", {"flag": 1}, {"flag": 2}).apply == {"flag": 1}
    assert arbiter.judge("d", "cloud", {"flag": True}, {"flag": 2}).apply == {"flag": True}


def test_prune_and_forget() -> None:
    """Old deliveries are pruned; a forgotten device starts over."""
    clock = Clock()
    arbiter = SourceArbiter(clock)
    arbiter.judge("d", "lan", {"a": 1}, {})
    arbiter.judge("e", "lan", {"a": 1}, {})
    clock.now += ECHO_WINDOW / 2
    arbiter.judge("e", "lan", {"b": 1}, {})
    clock.now += ECHO_WINDOW / 2 + 0.1
    arbiter.prune()
    assert arbiter.judge("d", "cloud", {"a": 1}, {"a": 2}).apply == {"a": 1}
    assert arbiter.judge("e", "cloud", {"b": 1}, {"b": 2}).apply == {}
    arbiter.forget("e")
    assert arbiter.judge("e", "cloud", {"b": 1}, {"b": 2}).apply == {"b": 1}


STATE = {
    "switches": [
        {"outlet": 0, "switch": "off"},
        {"outlet": 1, "switch": "on"},
        {"outlet": 2, "switch": "on"},
        {"outlet": 3, "switch": "off"},
    ]
}


@pytest.mark.parametrize(
    ("command", "requests"),
    [
        ({"switches": [{"outlet": 0, "switch": "on"}]}, [{"light": "on"}]),
        ({"switches": [{"outlet": 1, "switch": "off"}]}, [{"fan": "off"}]),
        (
            {"switches": [{"outlet": 1, "switch": "on"}, {"outlet": 2, "switch": "off"},
                          {"outlet": 3, "switch": "off"}]},
            [{"fan": "on", "speed": 1}],
        ),
        ({"switches": [{"outlet": 3, "switch": "on"}, {"outlet": 2, "switch": "off"}]},
         [{"fan": "on", "speed": 3}]),
        ({"switches": [{"outlet": 0, "switch": "off"}, {"outlet": 2, "switch": "on"}]},
         [{"fan": "on", "speed": 2}, {"light": "off"}]),
        ({"switches": [{"outlet": 3, "switch": "on"}]}, None),  # both speed bits: no speed
        ({"switches": [{"outlet": 0, "switch": 5}]}, None),
        ({"switches": [{"outlet": "0"}]}, None),
        ({"switches": "all"}, None),
        ({"switches": [], "sledOnline": "on"}, None),
        ({"sledOnline": "off"}, [{"sledOnline": "off"}]),
    ],
)  # fmt: skip
def test_ifan_commands_in_the_lan_form(
    command: dict[str, Any], requests: list[dict[str, Any]] | None
) -> None:
    """The cloud's relay view becomes `fan`/`speed` and `light` requests, or no LAN form."""
    assert ifan_to_lan(command, STATE) == requests


def test_ifan_fan_off_keeps_speed_bits() -> None:
    """Turning the fan on from off needs both speed bits known."""
    state = {"switches": [{"outlet": 1, "switch": "off"}]}
    assert ifan_to_lan({"switches": [{"outlet": 1, "switch": "on"}]}, state) is None


@pytest.mark.parametrize(
    ("announced", "switches"),
    [
        ({"light": "on"}, [{"outlet": 0, "switch": "on"}]),
        ({"fan": "off"}, [{"outlet": 1, "switch": "off"}]),
        (
            {"fan": "on", "speed": 2},
            [{"outlet": 1, "switch": "on"}, {"outlet": 2, "switch": "on"},
             {"outlet": 3, "switch": "off"}],
        ),
        ({"fan": "on", "speed": 9}, [{"outlet": 1, "switch": "on"}]),
    ],
)  # fmt: skip
def test_ifan_announcements_in_the_cloud_form(
    announced: dict[str, Any], switches: list[dict[str, Any]]
) -> None:
    """Announced `fan`/`speed`/`light` become `switches` items; other params stay."""
    assert ifan_to_cloud({**announced, "rssi": -40}) == {"rssi": -40, "switches": switches}


def test_ifan_cloud_form_passes_through() -> None:
    """Announcements already in the cloud's form are not touched; odd values are dropped."""
    params = {"switches": [{"outlet": 0, "switch": "on"}]}
    assert ifan_to_cloud(params) is params
    assert ifan_to_cloud({"light": 3, "fan": "spin"}) == {}
    merged = ifan_to_cloud({"light": "off", "switches": [{"outlet": 2, "switch": "on"}]})
    assert merged == {"switches": [{"outlet": 0, "switch": "off"}, {"outlet": 2, "switch": "on"}]}
