"""A seeded generator of hostile protocol input: values, structure-aware mutations, raw text.

Everything starts from valid shapes (frames, answers, device params per UIID) and is then
mutated: values replaced by hostile ones (null, wrong types, huge or non-finite numbers, lone
surrogates, control characters, huge strings, deep nesting), keys deleted or added, containers
wrapped or changed, and sometimes the serialised text corrupted. One `Hostile` per input, seeded
from (seed, target, index), so any failing input can be replayed alone.
"""

from __future__ import annotations

import copy
import json
import math
import random
from typing import Any

from simulator.uiids import SPECS, default_params, spec_for

APIKEY = "0c1d2e3f-aaaa-bbbb-cccc-1234567890ab"
DEVICEIDS = ("1000000001", "1000000002", "1000000003", "10000000a4")
SEQUENCES = ("1700000000001", "1700000000002", "1700000000003")

_STRINGS: tuple[str, ...] = (
    "", " ", "on", "off", "0", "-1", "1e999", "NaN", "null", "[]", "{}", "\x00", "a\x00b",
    "\ud800", "\udfff", "a\ud800b", "\udbff\udfff", "\n", "\r\nX-Injected: 1", "\t", "\u202e",
    "\u200b", "é", "日本", "😀", "\ufeff", "\\", '"', "%s%n", "../../", "<script>",
    "1000000001", APIKEY,
)  # fmt: skip
_NUMBERS: tuple[Any, ...] = (
    0, 1, -1, 2, 7, 31, 63, 64, 255, 2**31, -(2**31), 2**53 + 1, 2**63 - 1, 2**63, -(2**63) - 1,
    10**30, 10**400, 0.5, -0.0, 1e308, 1e-320, math.nan, math.inf, -math.inf,
)  # fmt: skip


class Hostile:
    """Hostile values and mutations from one seeded random generator."""

    def __init__(self, rng: random.Random) -> None:
        """Use `rng` for every choice."""
        self.rng = rng

    # -- values ---------------------------------------------------------------------------

    def string(self) -> str:
        """Return a hostile or odd string."""
        rng = self.rng
        roll = rng.random()
        if roll < 0.6:
            return rng.choice(_STRINGS)
        if roll < 0.8:
            return "".join(chr(rng.randrange(0, 0x110000)) for _ in range(rng.randrange(1, 12)))
        if roll < 0.95:
            return rng.choice("ax\x01é\ud800") * rng.choice((100, 5000, 20_000))
        return "x" * rng.choice((70_000, 300_000))

    def number(self) -> Any:
        """Return a hostile or odd number (bools included)."""
        if self.rng.random() < 0.15:
            return self.rng.choice((True, False))
        return self.rng.choice(_NUMBERS)

    def deep(self) -> Any:
        """Return a container nested from a little past the bounds to far past recursion limits."""
        depth = self.rng.choice((13, 14, 40, 200, 900, 5000, 50_000))
        value: Any = self.rng.choice(("leaf", 1, None, {}))
        for _ in range(depth):
            value = {"k": value} if self.rng.random() < 0.5 else [value]
        return value

    def value(self, depth: int = 0) -> Any:
        """Return any hostile JSON-ish value."""
        roll = self.rng.random()
        if roll < 0.3:
            return self.string()
        if roll < 0.55:
            return self.number()
        if roll < 0.62:
            return None
        if roll < 0.67:
            return self.deep()
        if depth > 2 or roll < 0.8:
            return self.rng.choice(([], {}, [None], {"": None}, [[]], {"outlet": [0]}))
        if roll < 0.9:
            return [self.value(depth + 1) for _ in range(self.rng.randrange(0, 5))]
        return {self.key(): self.value(depth + 1) for _ in range(self.rng.randrange(0, 5))}

    def key(self) -> str:
        """Return a hostile key (or a protocol key)."""
        if self.rng.random() < 0.5:
            return self.rng.choice(
                ("switch", "switches", "outlet", "params", "error", "sequence", "deviceid",
                 "action", "online", "config", "hbInterval", "at", "rt", "user", "apikey",
                 "thingList", "itemData", "index", "total", "region", "data", "parentid")
            )  # fmt: skip
        return self.string()[:40]

    # -- mutations ------------------------------------------------------------------------

    def mutate(self, obj: Any, times: int | None = None) -> Any:
        """Return a mutated deep copy of `obj` (1 to 3 structural mutations by default)."""
        try:
            obj = copy.deepcopy(obj)
        except RecursionError:
            return self.value()
        for _ in range(times if times is not None else self.rng.randrange(1, 4)):
            obj = self._mutate_once(obj)
        return obj

    def _nodes(self, obj: Any) -> list[tuple[Any, Any]]:
        """Return (container, key) pairs of every slot in `obj` (bounded walk)."""
        slots: list[tuple[Any, Any]] = []
        stack = [obj]
        while stack and len(slots) < 500:
            node = stack.pop()
            if isinstance(node, dict):
                for key, value in node.items():
                    slots.append((node, key))
                    stack.append(value)
            elif isinstance(node, list):
                for index, value in enumerate(node):
                    slots.append((node, index))
                    stack.append(value)
        return slots

    def _mutate_once(self, obj: Any) -> Any:
        rng = self.rng
        slots = self._nodes(obj)
        if not slots or rng.random() < 0.05:
            return self.value()  # replace the whole thing
        parent, key = rng.choice(slots)
        op = rng.random()
        if op < 0.45:
            parent[key] = self.value()
        elif op < 0.6 and isinstance(parent, dict):
            del parent[key]
        elif op < 0.7:
            parent[key] = [parent[key]] if rng.random() < 0.5 else {"v": parent[key]}
        elif op < 0.78:
            parent[key] = self.deep()
        elif op < 0.88 and isinstance(parent, dict):
            parent[self.key()] = self.value()
        elif op < 0.94:
            value = parent[key]
            parent[key] = str(value) if not isinstance(value, str) else self.number()
        elif isinstance(parent, list):
            parent.extend(self.value() for _ in range(rng.randrange(1, 4)))
        else:
            try:
                parent[key] = copy.deepcopy(parent)  # self-similar growth
            except RecursionError:
                parent[key] = self.deep()
        return obj

    # -- serialisation --------------------------------------------------------------------

    def text(self, obj: Any) -> str:
        """Serialise `obj` as a frame would travel; sometimes corrupt the text."""
        rng = self.rng
        try:
            text = json.dumps(obj, ensure_ascii=rng.random() < 0.7, separators=(",", ":"))
        except RecursionError, ValueError:
            text = _deep_text(rng.choice((2000, 100_000)))
        roll = rng.random()
        if roll < 0.85:
            return text
        if roll < 0.9 and text:
            return text[: rng.randrange(len(text))]
        if roll < 0.95 and text:
            at = rng.randrange(len(text))
            return text[:at] + self.string()[:20] + text[at:]
        return rng.choice(
            ("", "ping", "pong", "null", "[]", "123", '"text"', "{", "{}", _deep_text(200_000),
             '{"action":"update"' + ',"x":1' * 10_000 + "}", "\ud800", "NaN", "Infinity")
        )  # fmt: skip

    def body(self, obj: Any) -> bytes:
        """Serialise `obj` as an HTTP answer body; sometimes corrupt the bytes."""
        rng = self.rng
        roll = rng.random()
        if roll < 0.9:
            return self.text(obj).encode("utf-8", "surrogatepass")
        return rng.choice(
            (b"", b"\xff\xfe\x00", b"\xef\xbb\xbf{}", b"<html>error</html>", b"\x80" * 10,
             b'{"error":0,"data":' + b"[" * 100_000 + b"]" * 100_000 + b"}", b"Forbidden")
        )  # fmt: skip


def _deep_text(depth: int) -> str:
    return "[" * depth + "]" * depth


# -- templates: valid shapes to mutate ----------------------------------------------------


def device_params(uiid: int, rng: random.Random) -> dict[str, Any]:
    """Return realistic params of a UIID (the simulator's defaults)."""
    return default_params(spec_for(uiid), mac="d0:27:00:00:00:01", rng=rng, ssid="Home")


UIIDS: tuple[int, ...] = tuple(sorted(SPECS))


def update_frame(deviceid: str, params: Any) -> dict[str, Any]:
    """Return a pushed `update` frame."""
    return {"action": "update", "deviceid": deviceid, "apikey": APIKEY, "userAgent": "device",
            "d_seq": 1700000001000, "ts": 0, "params": params, "from": "device"}  # fmt: skip


def frame_templates(rng: random.Random) -> list[Any]:
    """Return valid frames of every kind the cloud pushes or answers (§12)."""
    uiid = rng.choice(UIIDS)
    params = device_params(uiid, rng)
    deviceid = rng.choice(DEVICEIDS)
    partial = {k: params[k] for k in rng.sample(sorted(params), min(2, len(params)))}
    return [
        update_frame(deviceid, params),
        update_frame(deviceid, partial),
        update_frame(deviceid, {"switches": [{"outlet": 1, "switch": "on"}]}),
        update_frame(deviceid, [{"switch": "on"}, {"startup": "off"}]),
        update_frame(deviceid, {"subDevRssi": 127}),
        {"action": "sysmsg", "deviceid": deviceid, "apikey": APIKEY, "ts": 1700000002,
         "params": {"online": rng.random() < 0.5}},
        {"error": 0, "deviceid": deviceid, "apikey": APIKEY, "sequence": rng.choice(SEQUENCES)},
        {"error": rng.choice((0, 503, 504)), "deviceid": deviceid, "apikey": APIKEY,
         "sequence": int(rng.choice(SEQUENCES)), "params": partial},
        {"error": 0, "sequence": rng.choice(SEQUENCES), "config": {"hundredDaysKwhData": "00"}},
        {"action": "notify", "deviceid": deviceid, "apikey": APIKEY, "userAgent": "server",
         "sequence": "1", "cmd": "incrementalDataNotify", "params": {"start": 1, "end": 2}},
        {"action": "reportSubDevice", "deviceid": deviceid, "params": {"subDevId": "x",
                                                                        "online": True}},
        {"error": 0, "apikey": APIKEY, "config": {"hb": 1, "hbInterval": 145}, "sequence": "1"},
    ]  # fmt: skip


def frame(h: Hostile) -> str:
    """Return one hostile frame text (a template, mutated or not, or garbage)."""
    rng = h.rng
    template = rng.choice(frame_templates(rng))
    roll = rng.random()
    if roll < 0.15:
        return h.text(template)  # valid frames keep the paths honest
    if roll < 0.9:
        return h.text(h.mutate(template))
    return h.text(h.value())


def hostile_update(h: Hostile, params: dict[str, Any]) -> Any:
    """Return a params update for a device: a partial of its params, mutated."""
    rng = h.rng
    keys = sorted(params)
    update = {
        k: copy.deepcopy(params[k]) for k in rng.sample(keys, rng.randrange(1, len(keys) + 1))
    }
    roll = rng.random()
    if roll < 0.15:
        return update
    if roll < 0.3:
        outlet = rng.choice((*_NUMBERS, "0", [0], {"o": 0}, None))
        return {
            rng.choice(("switches", "configure", "pulses")): [
                {"outlet": outlet, "switch": "on"},
                {"outlet": rng.randrange(0, 4), "switch": "off"},
            ]
        }
    if roll < 0.95:
        return h.mutate(update)
    return h.value()


# REST answers: (operation, path, data of a valid answer). Shapes follow coolkit-cloud.md.
USER = {"apikey": APIKEY, "email": "a@example.com", "nickname": "demo", "countryCode": "+49"}
THING = {
    "itemType": 1,
    "index": 1,
    "itemData": {
        "name": "Lamp", "deviceid": "1000000001", "apikey": APIKEY,
        "extra": {"uiid": 1, "model": "PSA-B01-GL", "mac": "d0:27:00:00:00:01"},
        "brandName": "SONOFF", "productModel": "MINIR2", "tags": {"ck_channel_name": {"0": "A"}},
        "family": {"familyid": "f1", "index": 1, "roomid": "r1"}, "online": True,
        "params": {"switch": "on", "switches": [{"outlet": 0, "switch": "on"}], "rssi": -50},
    },
}  # fmt: skip
ANSWERS: dict[str, tuple[str, Any]] = {
    "login": ("/v2/user/login", {"user": USER, "at": "a" * 40, "rt": "r" * 40, "region": "eu"}),
    "refresh": ("/v2/user/refresh", {"at": "b" * 40, "rt": "s" * 40}),
    "oauth": ("/v2/user/oauth/token", {"accessToken": "c" * 40, "atExpiredTime": 1900000000000,
                                      "refreshToken": "t" * 40, "rtExpiredTime": 1910000000000}),
    "profile": ("/v2/user/profile", {"user": USER, "region": "eu"}),
    "region": ("/v2/utils/get-region", {"region": "eu"}),
    "families": ("/v2/family", {"familyList": [
        {"id": "f1", "apikey": APIKEY, "name": "Home", "index": 0,
         "roomList": [{"id": "r1", "name": "Kitchen", "index": 0}]}], "currentFamilyId": "f1"}),
    "things": ("/v2/device/thing", {"thingList": [THING, {"itemType": 3, "index": 2,
               "itemData": {"id": "g1", "name": "Group", "params": {}}}], "total": 2}),
    "by_ids": ("/v2/device/thing", {"thingList": [THING]}),
    "status_get": ("/v2/device/thing/status", {"params": {"switch": "on", "rssi": -50}}),
    "status_set": ("/v2/device/thing/status", {}),
    "add": ("/v2/device/add", THING),
    "logout": ("/v2/user/logout", {}),
    "dispatch": ("/dispatch/app", None),
}  # fmt: skip
DISPATCH = {"port": 8080, "IP": "127.0.0.1", "reason": "ok", "domain": "127.0.0.1", "error": 0}


def envelope(data: Any, error: int = 0) -> dict[str, Any]:
    """Return the §3.1 envelope."""
    return {"error": error, "msg": "", "data": data}


def rest_answer(h: Hostile, operation: str) -> tuple[int, bytes]:
    """Return (HTTP status, body) of a hostile answer to `operation`."""
    rng = h.rng
    _path, data = ANSWERS[operation]
    valid: Any = DISPATCH if operation == "dispatch" else envelope(data)
    roll = rng.random()
    if roll < 0.1:
        answer = valid
    elif roll < 0.2:
        answer = envelope(
            rng.choice((None, {}, [], "x")),
            rng.choice((400, 401, 402, 403, 405, 406, 407, 408, 412, 500, 503, 504, 4002, 10001,
                        10004, 30022, -1, 2**64, True)),
        )  # fmt: skip
    elif roll < 0.3 and operation != "dispatch":
        mutated = h.mutate({"data": data})
        answer = envelope(mutated.get("data") if isinstance(mutated, dict) else mutated)
    else:
        answer = h.mutate(valid)
    status = 200
    if rng.random() < 0.08:
        status = rng.choice((201, 204, 400, 401, 403, 404, 429, 500, 502, 503, 504))
    return status, h.body(answer)
