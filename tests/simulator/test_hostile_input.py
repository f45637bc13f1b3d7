"""Hostile input never breaks the simulator for good (issue #9 finding 8).

A lone surrogate, deep nesting or NaN in a body or frame is refused (400) and never stored, so
every later answer still serialises; odd field types are 400s, not 500s.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from simulator import VirtualDevice

from .conftest import World
from .helpers import app_session, is_ack, is_push, next_frame

SURROGATE_NAME = b'{"deviceid":"1000000e01","name":"lamp \\ud800"}'
DEEP = b'{"deviceid":"1000000e01","type":"merge","tags":' + b'{"a":' * 40 + b"1" + b"}" * 41
VERY_DEEP = (
    b'{"deviceid":"1000000e01","type":"merge","tags":' + b"[" * 100_000 + b"]" * 100_000 + b"}"
)
NAN = b'{"deviceid":"1000000e01","type":"merge","tags":{"x":NaN}}'


@pytest.fixture
async def lamp(world: World) -> VirtualDevice:
    """One online device of the owner."""
    return await world.sim.add_device(world.owner, "1000000e01", 1, "Lamp")


async def healthy(world: World, at: str) -> None:
    """The thing list, the homes and the admin views still answer."""
    for path in ("/v2/device/thing", "/v2/family"):
        env = await world.api.bearer("GET", path, at)
        assert env["error"] == 0, env
    for path in ("/devices", "/requests", "/state"):
        async with world.api.http.get(f"{world.sim.admin_url}{path}") as resp:
            assert resp.status == 200


async def test_rest_bodies(world: World, lamp: VirtualDevice) -> None:
    """Surrogates, deep nesting and NaN are refused with 400 and never stored."""
    api = world.api
    at = (await api.login("owner@example.com", "owner-pw"))["at"]
    for path, raw in (
        ("/v2/device/update-info", SURROGATE_NAME),
        ("/v2/device/tags", DEEP),
        ("/v2/device/tags", VERY_DEEP),
        ("/v2/device/tags", NAN),
    ):
        status, env = await api.request("POST", "eu", path, body=raw, at=at)
        assert (status, env["error"]) == (200, 400), (path, env)
    await healthy(world, at)
    assert world.sim.store.devices["1000000e01"].name == "Lamp"
    assert world.sim.store.devices["1000000e01"].tags == {}


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/v2/device/thing/batch-status", {"thingList": [{"type": "x", "id": "1000000e01"}]}),
        ("/v2/device/thing/batch-status", {"thingList": [{"type": [1], "id": "a"}]}),
        ("/v2/homepage", {"getThing": ["num", 30]}),
        ("/v2/device/thing", {"thingList": [{"itemType": "1", "id": "1000000e01"}]}),
        ("/v2/device/thing", {"thingList": [{"itemType": 1, "id": ["1000000e01"]}]}),
        ("/v2/device/thing", {"thingList": [{"itemType": 1, "id": f"x{n}"} for n in range(11)]}),
    ],
)
async def test_odd_field_types_are_400(
    world: World, lamp: VirtualDevice, path: str, body: dict[str, Any]
) -> None:
    """Wrong types in otherwise valid bodies: a 400 envelope, never an HTTP 500."""
    api = world.api
    at = (await api.login("owner@example.com", "owner-pw"))["at"]
    status, env = await api.request("POST", "eu", path, body=body, at=at)
    assert (status, env["error"]) == (200, 400), env
    await healthy(world, at)


async def test_raw_header_bytes(world: World) -> None:
    """Header values that are not ASCII are logged escaped; the request log still serialises."""
    host, port = world.sim.config.host, world.sim.port
    reader, writer = await asyncio.open_connection(host, port)
    writer.write(
        b"GET /eu/v2/family HTTP/1.1\r\nHost: x\r\nX-CK-Appid: \xed\xa0\x80\xff\r\n"
        b"Authorization: Bearer \xff\xfe\r\nConnection: close\r\n\r\n"
    )
    await writer.drain()
    answer = await reader.read()
    writer.close()
    assert answer.startswith(b"HTTP/1.1 200")
    at = (await world.api.login("owner@example.com", "owner-pw"))["at"]
    await healthy(world, at)
    assert all(r.appid is None or r.appid.isascii() for r in world.sim.requests)


async def test_websocket_frames(world: World, lamp: VirtualDevice) -> None:
    """App frames with surrogates, deep nesting or NaN get 400 and reach no device; the session
    and the device keep working."""
    sim, api = world.sim, world.api
    ws, data = await app_session(api.http, sim, api, "owner@example.com", "owner-pw")
    apikey = world.owner.apikey
    head = '{"action":"update","deviceid":"1000000e01","apikey":"' + apikey + '","sequence":"'
    for n, params in enumerate(('{"switch":"\\ud800"}', "[" * 50 + "]" * 50, '{"x":NaN}')):
        await ws.send_str(f'{head}{n}","params":{params}}}')
        reply = await next_frame(ws, lambda f: isinstance(f, dict) and "action" not in f)
        assert reply["error"] == 400
    assert "\ud800" not in str(lamp.params)
    await ws.send_json(
        {
            "action": "update",
            "deviceid": "1000000e01",
            "apikey": apikey,
            "sequence": "9",
            "params": {"switch": "on"},
        }
    )
    assert (await next_frame(ws, is_ack("9")))["error"] == 0
    push = await next_frame(ws, is_push("update", "1000000e01"))
    assert push["params"]["switch"] == "on"
    await ws.close()
    await healthy(world, data["at"])


async def test_device_frames(world: World, lamp: VirtualDevice) -> None:
    """A device reporting a lone surrogate or deep params is ignored; its state stays valid."""
    sim = world.sim
    ws = lamp.ws
    assert ws is not None
    before = dict(sim.store.devices["1000000e01"].params)
    await ws.send_str(
        '{"userAgent":"device","action":"update","deviceid":"1000000e01","apikey":"'
        + world.owner.apikey
        + '","params":{"switch":"\\udfff"}}'
    )
    await ws.send_str('{"action":"update","params":' + "[" * 60 + "]" * 60 + "}")
    await lamp.report({"switch": "on"})
    await sim.wait_for(lambda: sim.store.devices["1000000e01"].params.get("switch") == "on")
    assert sim.store.devices["1000000e01"].params == {**before, "switch": "on"}
    at = (await world.api.login("owner@example.com", "owner-pw"))["at"]
    await healthy(world, at)
