"""Boundary validation of what the cloud sends (issue #9 finding 5): models and params."""

from __future__ import annotations

import copy
import json
import math

import pytest

from custom_components.ewelink.coolkit import (
    Family,
    SanitizedParams,
    Thing,
    Tokens,
    UserInfo,
    liveness_timing,
    merge_params,
    sanitize_params,
)
from custom_components.ewelink.coolkit.models import (
    MAX_DEPTH,
    MAX_NODES,
    MAX_STRING,
    clean_text,
    valid_token,
)

BAD_TOKENS = [None, 42, 4.2, True, {"at": "x"}, ["x"], "", " ", "a b", "tok\ud800en", "tok\x00",
              "tok\nen", "tök", "x" * 5000]  # fmt: skip


def nested(depth: int) -> object:
    value: object = "leaf"
    for _ in range(depth):
        value = {"k": [value]}
    return value


def depth_of(value: object) -> int:
    if isinstance(value, dict):
        return 1 + max((depth_of(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((depth_of(v) for v in value), default=0)
    return 0


def strict_json(value: object) -> str:
    """What diagnostics and storage need: standard JSON, encodable as UTF-8."""
    text = json.dumps(value, allow_nan=False, ensure_ascii=False)
    text.encode("utf-8")
    return text


@pytest.mark.parametrize("token", BAD_TOKENS)
def test_malformed_tokens_are_refused(token: object) -> None:
    """null, numbers, objects, empty strings, surrogates, control characters: never tokens."""
    with pytest.raises(ValueError, match="malformed"):
        valid_token(token)
    with pytest.raises(ValueError, match="malformed"):
        Tokens.from_cloud(token, "rt-ok")
    with pytest.raises(ValueError, match="malformed"):
        Tokens.from_cloud("at-ok", token)


def test_cloud_expiry_times_are_checked() -> None:
    """OAuth expiry times in the past, absurd or not numbers fall back to the lifetimes."""
    now_ms = 1_900_000_000_000
    good = Tokens.from_cloud("a", "r", access_expires_ms=now_ms)
    assert good.access_expires_at == 1_900_000_000
    for odd in (True, -1, 0, 1000, "4000000000000", 10**400, math.inf, math.nan, None):
        tokens = Tokens.from_cloud("a", "r", access_expires_ms=odd, access_lifetime=100)
        assert tokens.access_expires_at == pytest.approx(tokens.issued_at + 100)
    capped = Tokens.from_cloud("a", "r", access_expires_ms=now_ms * 1000)
    assert capped.access_expires_at < capped.issued_at + 11 * 365 * 86400


def test_refresh_due_before_expiry() -> None:
    """Due at half life, or `margin` seconds before expiry, whichever comes first."""
    tokens = Tokens.issued_now("a", "r", access_lifetime=100, now=1000)
    assert tokens.refresh_at() == 1050
    assert tokens.refresh_at(margin=80) == 1020
    assert tokens.refresh_due(now=1021, margin=80)
    assert not tokens.refresh_due(now=1019, margin=80)


@pytest.mark.parametrize(
    "user",
    [None, [], "user", {"apikey": None}, {"apikey": 5}, {"apikey": "x\ud800"}, {"apikey": ""},
     {"apikey": {"a": 1}}],
)  # fmt: skip
def test_odd_users_are_value_errors(user: object) -> None:
    """Whatever `data.user` is, parsing raises ValueError (the client maps it), never
    AttributeError or TypeError."""
    with pytest.raises(ValueError, match=r"malformed|object"):
        UserInfo.from_api(user)


def test_user_text_fields_are_cleaned() -> None:
    """Names reach the config entry title: no lone surrogates, no control characters."""
    user = UserInfo.from_api(
        {"apikey": "k", "email": "a\ud800@b\x00.c", "nickname": 5, "phoneNumber": ["+1"]}
    )
    assert user.email == "a@b.c"
    assert (user.nickname, user.phone) == (None, None)
    strict_json(user.email)


def test_families_parse_or_are_skipped() -> None:
    """Homes need a usable id; rooms with odd ids are skipped; names are cleaned."""
    assert Family.from_api("home") is None
    assert Family.from_api({"id": {"x": 1}}) is None
    assert Family.from_api({"id": None}) is None
    family = Family.from_api(
        {
            "id": "f1",
            "name": "Ho\ud800me",
            "index": True,
            "apikey": 7,
            "roomList": [{"id": "r1", "name": "Kitchen"}, {"id": [1]}, "room", {"name": "x"}],
        }
    )
    assert family is not None
    assert (family.id, family.name, family.index, family.apikey) == ("f1", "Home", 0, None)
    assert family.rooms == {"r1": "Kitchen"}
    odd_rooms = Family.from_api({"id": "f2", "roomList": "rooms"})
    assert odd_rooms is not None
    assert odd_rooms.rooms == {}


@pytest.mark.parametrize(
    "entry",
    [
        None,
        "thing",
        [],
        {"itemType": True, "itemData": {"deviceid": "1000000001", "apikey": "k"}},
        {"itemType": "1", "itemData": {"deviceid": "1000000001", "apikey": "k"}},
        {"itemType": 1, "itemData": {"deviceid": ["1000000001"], "apikey": "k"}},
        {"itemType": 1, "itemData": {"deviceid": "1000000001", "apikey": None}},
        {"itemType": 1, "itemData": {"deviceid": "10000\ud80001", "apikey": "k"}},
        {"itemType": 1, "itemData": {"deviceid": "", "apikey": "k"}},
    ],
)
def test_unusable_things_are_none(entry: object) -> None:
    """Items without a usable deviceid, apikey or item type are skipped (None), never raised."""
    assert Thing.from_api(entry) is None


def test_thing_fields_with_odd_shapes() -> None:
    """Every field is checked: odd types become None/defaults, params are sanitised."""
    thing = Thing.from_api(
        {
            "itemType": 1,
            "index": 2**70,
            "itemData": {
                "deviceid": "1000000001",
                "apikey": "owner",
                "name": {"not": "text"},
                "online": "yes",
                "extra": {"uiid": [1], "model": 3, "mac": None},
                "params": {"switch": "on", "bad": "\ud800", "deep": nested(50), 5: "x"},
                "family": "family",
                "tags": nested(40),
                "brandName": "\x00",
            },
        }
    )
    assert thing is not None
    assert (thing.name, thing.uiid, thing.online, thing.index) == ("1000000001", None, False, 0)
    assert (thing.firmware_model, thing.family_id, thing.brand, thing.mac) == (
        None, None, None, None
    )  # fmt: skip
    assert thing.params == {"switch": "on"}
    assert depth_of(thing.tags) <= MAX_DEPTH + 1
    strict_json(thing.params)
    strict_json(thing.tags)
    assert (
        Thing.from_api(
            {"itemType": 1, "itemData": {"deviceid": "d1", "apikey": "k", "extra": {"uiid": "0x1"}}}
        ).uiid
        is None
    )  # type: ignore[union-attr]


def test_sanitize_bounds_depth_size_and_types() -> None:
    """Deep, huge, non-finite, oversized-int, invalid-text values are dropped; the rest stays."""
    params = {
        "switch": "on",
        "ok": [1, 2.5, None, True, {"a": "b"}],
        "nan": math.nan,
        "inf": -math.inf,
        "big": 2**64,
        "small": -(2**63),
        "surrogate": "\udc00",
        "nul": "a\x00b",
        "long": "x" * (MAX_STRING + 1),
        "deep": nested(MAX_DEPTH + 5),
        "set": {1, 2},
        "\ud800": "bad key",
    }
    clean = sanitize_params(params)
    assert clean == {"switch": "on", "ok": [1, 2.5, None, True, {"a": "b"}], "small": -(2**63)}
    assert isinstance(clean, SanitizedParams)
    assert sanitize_params("on") is None
    assert sanitize_params([{"a": 1}, {"b": 2, "a": 3}]) == {"a": 3, "b": 2}
    assert sanitize_params([{"a": 1}, "x"]) is None
    huge = sanitize_params({f"k{i}": [i] for i in range(MAX_NODES)})
    assert huge is not None
    assert 0 < len(huge) < MAX_NODES
    strict_json(huge)


def test_very_deep_input_does_not_recurse() -> None:
    """A structure far deeper than the recursion limit is cut at the bound, not recursed."""
    value: object = {}
    for _ in range(100_000):
        value = {"k": value}
    clean = sanitize_params({"deep": value, "switch": "off"})
    assert clean == {"switch": "off"}


def test_merge_params_survives_invalid_outlets() -> None:
    """An `outlet` that is not a valid index never poisons the state (issue #9 finding 5)."""
    state: dict[str, object] = {
        "switches": [{"outlet": 0, "switch": "off"}, {"outlet": 1, "switch": "off"}]
    }
    hostile = [
        {"switches": [{"outlet": [1], "switch": "on"}]},
        {"switches": [{"outlet": {"a": 1}, "switch": "on"}]},
        {"switches": [{"outlet": "1", "switch": "on"}, {"outlet": None}, {"outlet": True}]},
        {"switches": [{"outlet": -1, "switch": "on"}, {"outlet": 2**40}, {"outlet": 1.0}]},
        {"switches": [{"switch": "on"}, "on", None, 5]},
        {"switches": "on"},
        {"switches": {"outlet": 0}},
        {"configure": [{"outlet": [0], "startup": "on"}]},
    ]
    for update in hostile:
        merge_params(state, update)  # type: ignore[arg-type]
        strict_json(state)
    assert state["switches"] == [{"outlet": 0, "switch": "off"}, {"outlet": 1, "switch": "off"}]
    assert state["configure"] == []
    merge_params(state, {"switches": [{"outlet": 1, "switch": "on"}]})
    assert state["switches"] == [{"outlet": 0, "switch": "off"}, {"outlet": 1, "switch": "on"}]


def test_merge_params_repairs_a_poisoned_state() -> None:
    """Invalid channel items already in the state are dropped by the next merge of that array."""
    state: dict[str, object] = {
        "switches": [{"outlet": [1]}, {"outlet": 0, "switch": "off"}, "x", {"outlet": 3}]
    }
    merge_params(state, {"switches": [{"outlet": 0, "switch": "on"}]})
    assert state["switches"] == [{"outlet": 0, "switch": "on"}, {"outlet": 3}]
    merge_params(state, "not params")  # type: ignore[arg-type]
    merge_params(state, {1: "x", "deep": nested(100), "ok": 1})  # type: ignore[dict-item]
    assert state["ok"] == 1
    assert "deep" not in state


def test_merge_params_channel_arrays_sorted_and_partial() -> None:
    """Partial pushes merge by outlet; the array stays sorted; untouched keys survive."""
    state: dict[str, object] = {"switches": [{"outlet": 2, "switch": "off"}], "fw": "1"}
    before = copy.deepcopy(state)
    merge_params(state, {"switches": [{"outlet": 0, "switch": "on"}]})
    assert state == {**before, "switches": [{"outlet": 0, "switch": "on"}, {"outlet": 2, "switch": "off"}]}  # fmt: skip
    merge_params(state, sanitize_params({"switches": [{"outlet": 2, "switch": "on"}]}) or {})
    assert state["switches"] == [{"outlet": 0, "switch": "on"}, {"outlet": 2, "switch": "on"}]


def test_clean_text() -> None:
    """Control characters and lone surrogates are removed; length is bounded."""
    assert clean_text("Lamp\x00\n\u200b\ud800 1") == "Lamp 1"
    assert clean_text(5) is None
    assert clean_text("é" * 1000, 10) == "é" * 10


@pytest.mark.parametrize("hb", [2, 4, 20, 90, 145, 300, 900])
def test_liveness_detects_within_a_quarter_interval(hb: float) -> None:
    """Probe interval + pong timeout (the worst case) <= min(hbInterval / 4, 30 s) for real
    intervals; tiny test intervals are floored so a busy machine sees no false alarms."""
    probe, timeout = liveness_timing(hb)
    if hb >= 20:
        assert probe + timeout <= min(hb / 4, 30)
    else:
        assert (probe, timeout) == (0.5, 2.0)
