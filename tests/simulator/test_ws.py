"""The websocket long connection: handshake, heartbeat, commands, acks, pushes, faults."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp
import pytest

from simulator import SimulatorConfig, VirtualDevice

from .conftest import World, fast_config
from .helpers import app_session, is_ack, is_push, next_frame, no_frame, user_online, ws_open


@pytest.fixture
def config() -> SimulatorConfig:
    """Short heartbeat and idle timeout so the timing paths run fast."""
    return fast_config(hb_interval=1, idle_timeout=1.5, device_ack_timeout=0.4)


@pytest.fixture
async def devs(world: World) -> dict[str, VirtualDevice]:
    """A lamp, a dual plug, a device shared by the friend, a bridge with a child."""
    sim = world.sim
    lamp = await sim.add_device(world.owner, "1000000c01", 1, "Lamp")
    dual = await sim.add_device(world.owner, "1000000c02", 2, "Dual")
    shared = await sim.add_device(
        world.friend, "1000000c03", 1, "Friend lamp", shared_with=[world.owner]
    )
    bridge = await sim.add_device(world.owner, "1000000c04", 66, "Bridge")
    child = await sim.add_device(world.owner, "1000000c05", 1770, "TH", parent=bridge)
    return {"lamp": lamp, "dual": dual, "shared": shared, "bridge": bridge, "child": child}


def update(
    deviceid: str, apikey: str, params: Any, sequence: Any, self_apikey: str | None = None
) -> dict[str, Any]:
    frame: dict[str, Any] = {
        "action": "update",
        "deviceid": deviceid,
        "apikey": apikey,
        "userAgent": "app",
        "sequence": sequence,
        "params": params,
    }
    if self_apikey is not None:
        frame["selfApikey"] = self_apikey
    return frame


async def test_handshake_variants(world: World, devs: dict[str, VirtualDevice]) -> None:
    """Missing ts/version and a numeric sequence are accepted; the sequence is echoed as sent."""
    api, sim = world.api, world.sim
    data = await api.login("owner@example.com", "owner-pw")
    at, apikey, appid = data["at"], world.owner.apikey, world.app.appid
    hello = user_online(at, apikey, appid, sequence=1700000000123)
    del hello["ts"], hello["version"]
    ws, reply = await ws_open(api.http, sim, hello)
    assert reply == {
        "error": 0,
        "apikey": apikey,
        "sequence": 1700000000123,
        "config": {"hb": 1, "hbInterval": 1},
    }
    assert sim.app_sessions(world.owner) == 1
    await ws.close()
    # Wrong apikey or appid: 406 and the server closes; missing at: 400.
    for bad in (
        user_online(at, world.friend.apikey, appid),
        user_online(at, apikey, world.oauth_app.appid),
    ):
        ws, reply = await ws_open(api.http, sim, bad)
        assert reply is not None
        assert reply["error"] == 406
        assert reply["actionName"] == "userOnline"
        await ws.receive(timeout=2)
        assert ws.closed
    hello = user_online(at, apikey, appid)
    del hello["at"]
    ws, reply = await ws_open(api.http, sim, hello)
    assert reply is not None
    assert reply["error"] == 400
    assert reply["reason"] == "Bad Request"
    await ws.close()
    ws, reply = await ws_open(api.http, sim, {"action": "something"})
    assert reply is not None
    assert reply["error"] == 400
    await ws.close()


async def test_ping_pong_and_idle_timeout(world: World) -> None:
    """Text ping gets pong, protocol pings are answered; a silent socket is dropped."""
    ws, _ = await app_session(world.api.http, world.sim, world.api, "owner@example.com", "owner-pw")
    await ws.send_str("ping")
    assert await next_frame(ws) == "pong"
    for _ in range(3):  # text pings keep it alive past the idle timeout
        await asyncio.sleep(0.6)
        await ws.send_str("ping")
        assert await next_frame(ws) == "pong"
    assert world.sim.app_sessions() == 1
    msg = await ws.receive(timeout=4)  # silence: dropped after ~1.5 s
    assert msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR)
    await world.sim.wait_for(lambda: world.sim.app_sessions() == 0)


async def test_protocol_pings_and_ignore_ping(world: World) -> None:
    """RFC 6455 pings are answered; with ignore_ping neither text nor protocol pings are."""
    sim, api = world.sim, world.api
    data = await api.login("owner@example.com", "owner-pw")
    ws = await api.http.ws_connect(sim.ws_url, autoping=False)
    await ws.send_json(user_online(data["at"], world.owner.apikey, world.app.appid))
    assert (await ws.receive_json(timeout=2))["error"] == 0
    await ws.ping(b"hb")
    msg = await ws.receive(timeout=2)
    assert (msg.type, msg.data) == (aiohttp.WSMsgType.PONG, b"hb")
    sim.faults.ignore_ping = True
    await ws.ping(b"hb2")
    await ws.send_str("ping")
    with pytest.raises(TimeoutError):
        await ws.receive(timeout=0.3)
    await ws.close()


async def test_update_acks_and_echo(world: World, devs: dict[str, VirtualDevice]) -> None:
    """An update reaches the device, the ack comes back with the same sequence, then the push."""
    ws, _ = await app_session(world.api.http, world.sim, world.api, "owner@example.com", "owner-pw")
    apikey = world.owner.apikey
    await ws.send_json(update("1000000c01", apikey, {"switch": "on"}, "1700000000456", apikey))
    ack = await next_frame(ws, lambda f: isinstance(f, dict) and "action" not in f)
    assert ack == {
        "error": 0,
        "deviceid": "1000000c01",
        "apikey": apikey,
        "sequence": "1700000000456",
    }
    push = await next_frame(ws, is_push("update", "1000000c01"))
    assert push["params"] == {"switch": "on"}
    assert push["userAgent"] == "device"
    assert push["from"] == "device"
    assert push["apikey"] == apikey
    assert devs["lamp"].params["switch"] == "on"
    assert world.sim.store.devices["1000000c01"].params["switch"] == "on"
    # Numeric sequence echoed as a number; switches merged by outlet.
    await ws.send_json(
        update("1000000c02", apikey, {"switches": [{"outlet": 1, "switch": "on"}]}, 42)
    )
    ack = await next_frame(ws, is_ack(42))
    assert ack["error"] == 0
    push = await next_frame(ws, is_push("update", "1000000c02"))
    assert push["params"]["switches"][:2] == [
        {"outlet": 0, "switch": "off"},
        {"outlet": 1, "switch": "on"},
    ]
    # A bad command: the device acks 400.
    await ws.send_json(update("1000000c01", apikey, {"switch": "maybe"}, "s-bad"))
    assert (await next_frame(ws, is_ack("s-bad")))["error"] == 400
    # Echo off: ack only.
    devs["lamp"].echo = False
    await ws.send_json(update("1000000c01", apikey, {"switch": "off"}, "s-noecho"))
    assert (await next_frame(ws, is_ack("s-noecho")))["error"] == 0
    await no_frame(ws, is_push("update", "1000000c01"), 0.3)
    await ws.close()


async def test_offline_timeout_and_dropped_acks(
    world: World, devs: dict[str, VirtualDevice]
) -> None:
    """503 (configurable) for a device without socket, 504 when it does not ack in time."""
    sim = world.sim
    ws, _ = await app_session(world.api.http, sim, world.api, "owner@example.com", "owner-pw")
    apikey = world.owner.apikey
    lamp = devs["lamp"]
    lamp.drop_acks = True
    await ws.send_json(update("1000000c01", apikey, {"switch": "on"}, "s1"))
    assert (await next_frame(ws, is_ack("s1")))["error"] == 504
    lamp.drop_acks = False
    lamp.ack_delay = 0.2  # within the 0.4 s timeout
    await ws.send_json(update("1000000c01", apikey, {"switch": "on"}, "s2"))
    assert (await next_frame(ws, is_ack("s2")))["error"] == 0
    lamp.ack_delay = 0.6
    await ws.send_json(update("1000000c01", apikey, {"switch": "off"}, "s3"))
    assert (await next_frame(ws, is_ack("s3")))["error"] == 504
    lamp.ack_delay = 0
    await lamp.go_offline()
    sysmsg = await next_frame(ws, is_push("sysmsg", "1000000c01"))
    assert sysmsg["params"] == {"online": False}
    await ws.send_json(update("1000000c01", apikey, {"switch": "on"}, "s4"))
    assert await next_frame(ws, is_ack("s4")) == {
        "error": 503,
        "deviceid": "1000000c01",
        "apikey": apikey,
        "sequence": "s4",
    }
    sim.config.offline_command_error = 504
    await ws.send_json(update("1000000c01", apikey, {"switch": "on"}, "s5"))
    assert (await next_frame(ws, is_ack("s5")))["error"] == 504
    await lamp.go_online()
    sysmsg = await next_frame(ws, is_push("sysmsg", "1000000c01"))
    assert sysmsg["params"] == {"online": True}
    full = await next_frame(ws, is_push("update", "1000000c01"))
    assert {"switch", "fwVersion", "rssi", "staMac"} <= set(full["params"])
    world.sim.faults.drop_acks = True
    await ws.send_json(update("1000000c01", apikey, {"switch": "on"}, "s6"))
    assert (await next_frame(ws, is_ack("s6")))["error"] == 504
    await ws.close()


async def test_query(world: World, devs: dict[str, VirtualDevice]) -> None:
    """Query is forwarded to the device and its params relayed; 503 when it has no socket."""
    ws, _ = await app_session(world.api.http, world.sim, world.api, "owner@example.com", "owner-pw")
    apikey = world.owner.apikey
    frame = {"action": "query", "deviceid": "1000000c01", "apikey": apikey, "selfApikey": apikey,
             "userAgent": "app", "sequence": "q1", "params": ["switch", "startup"]}  # fmt: skip
    await ws.send_json(frame)
    reply = await next_frame(ws, is_ack("q1"))
    assert reply == {"error": 0, "deviceid": "1000000c01", "apikey": apikey, "sequence": "q1",
                     "params": {"switch": "off", "startup": "off"}}  # fmt: skip
    await ws.send_json({**frame, "sequence": "q2", "params": []})
    reply = await next_frame(ws, is_ack("q2"))
    assert {"switch", "rssi", "pulse"} <= set(reply["params"])
    await devs["lamp"].go_offline()
    await ws.send_json({**frame, "sequence": "q3"})
    assert (await next_frame(ws, is_ack("q3")))["error"] == 503
    await ws.send_json({**frame, "sequence": "q4", "params": "switch"})
    assert (await next_frame(ws, is_ack("q4")))["error"] == 400
    await ws.close()


async def test_permissions(world: World, devs: dict[str, VirtualDevice]) -> None:
    """406 for devices you neither own nor were shared; selfApikey is required for shares."""
    sim = world.sim
    stranger = sim.add_account("stranger@example.com", password="pw", region="eu")
    ws, _ = await app_session(world.api.http, sim, world.api, "stranger@example.com", "pw")
    owner_key = world.owner.apikey
    await ws.send_json(update("1000000c01", owner_key, {"switch": "on"}, "p1", stranger.apikey))
    assert (await next_frame(ws, is_ack("p1")))["error"] == 406
    await ws.close()
    ws, _ = await app_session(world.api.http, sim, world.api, "owner@example.com", "owner-pw")
    friend_key = world.friend.apikey
    await ws.send_json(update("1000000c03", friend_key, {"switch": "on"}, "p2"))
    assert (await next_frame(ws, is_ack("p2")))["error"] == 406  # no selfApikey
    await ws.send_json(update("1000000c03", owner_key, {"switch": "on"}, "p3", owner_key))
    assert (await next_frame(ws, is_ack("p3")))["error"] == 406  # apikey is not the owner's
    await ws.send_json(update("1000000c03", friend_key, {"switch": "on"}, "p4", owner_key))
    assert (await next_frame(ws, is_ack("p4")))["error"] == 0
    await ws.close()
    assert stranger.apikey != owner_key


async def test_fan_out_to_owner_and_sharees(world: World, devs: dict[str, VirtualDevice]) -> None:
    """Device updates and sysmsgs reach every session of the owner and of sharees, own included."""
    sim, api, http = world.sim, world.api, world.api.http
    other_app = sim.add_app("SecondApp00000000000000000000005", "SecondSecret0000000000000000005")
    owner_ws, _ = await app_session(http, sim, api, "owner@example.com", "owner-pw")
    data = await api.login("owner@example.com", "owner-pw", app=other_app)
    owner_ws2, reply = await ws_open(
        http, sim, user_online(data["at"], world.owner.apikey, other_app.appid)
    )
    assert reply is not None
    assert reply["error"] == 0
    friend_ws, _ = await app_session(http, sim, api, "friend@example.com", "friend-pw")
    assert sim.app_sessions(world.owner) == 2
    await devs["shared"].report({"switch": "on", "rssi": -70})
    for ws in (owner_ws, owner_ws2, friend_ws):
        push = await next_frame(ws, is_push("update", "1000000c03"))
        assert push["apikey"] == world.friend.apikey
        assert push["params"] == {"switch": "on", "rssi": -70}
    # The sharee commands the friend's device; the sender's own session gets the push too.
    await owner_ws.send_json(
        update("1000000c03", world.friend.apikey, {"switch": "off"}, "f1", world.owner.apikey)
    )
    assert (await next_frame(owner_ws, is_ack("f1")))["error"] == 0
    for ws in (owner_ws, owner_ws2, friend_ws):
        assert (await next_frame(ws, is_push("update", "1000000c03")))["params"] == {
            "switch": "off"
        }
    await devs["shared"].go_offline()
    for ws in (owner_ws, friend_ws):
        assert (await next_frame(ws, is_push("sysmsg", "1000000c03")))["params"] == {
            "online": False
        }
    # Devices of the owner alone do not reach the friend.
    await devs["lamp"].report({"switch": "on"})
    await next_frame(owner_ws, is_push("update", "1000000c01"))
    await no_frame(friend_ws, is_push("update", "1000000c01"), 0.2)
    for ws in (owner_ws, owner_ws2, friend_ws):
        await ws.close()


async def test_zigbee_child(world: World, devs: dict[str, VirtualDevice]) -> None:
    """Child pushes carry the child's deviceid; commands reach it over the bridge; it goes offline with it."""
    sim = world.sim
    ws, _ = await app_session(world.api.http, sim, world.api, "owner@example.com", "owner-pw")
    apikey = world.owner.apikey
    child, bridge = devs["child"], devs["bridge"]
    await child.report({"temperature": "2315", "humidity": "5012"})
    push = await next_frame(ws, is_push("update", "1000000c05"))
    assert push["params"] == {"temperature": "2315", "humidity": "5012"}
    await ws.send_json(update("1000000c05", apikey, [{"battery": 90}], "z1"))
    assert (await next_frame(ws, is_ack("z1")))["error"] == 0
    await child.go_offline()
    assert (await next_frame(ws, is_push("sysmsg", "1000000c05")))["params"] == {"online": False}
    assert bridge.online
    await ws.send_json(update("1000000c05", apikey, {"battery": 80}, "z2"))
    assert (await next_frame(ws, is_ack("z2")))["error"] == 503
    await child.go_online()
    assert (await next_frame(ws, is_push("sysmsg", "1000000c05")))["params"] == {"online": True}
    full = await next_frame(ws, is_push("update", "1000000c05"))
    assert full["params"]["parentid"] == "1000000c04"
    sim.faults.subdev_rssi_127 = True
    await bridge.go_offline()
    frames = [
        await next_frame(
            ws, lambda f: isinstance(f, dict) and f.get("action") in ("sysmsg", "update")
        )
        for _ in range(3)
    ]
    summary = {
        (f["deviceid"], f["action"], json.dumps(f["params"], sort_keys=True)) for f in frames
    }
    assert summary == {
        ("1000000c04", "sysmsg", '{"online": false}'),
        ("1000000c05", "sysmsg", '{"online": false}'),
        ("1000000c05", "update", '{"subDevRssi": 127}'),
    }
    assert not child.online
    await bridge.go_online()
    await child.wait_online()
    await ws.close()


async def test_kick_drop_half_open_refuse(world: World, devs: dict[str, VirtualDevice]) -> None:
    """kick_session (406 + close 1000), drop (1006 / clean codes), half-open, refused reconnects."""
    sim, api, http = world.sim, world.api, world.api.http
    ws, data = await app_session(http, sim, api, "owner@example.com", "owner-pw")
    assert await sim.kick_session(world.owner, world.app.appid)
    frame = await next_frame(ws)
    assert frame["error"] == 406
    msg = await ws.receive(timeout=2)
    assert msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
    assert ws.close_code == 1000
    assert (await api.bearer("GET", "/v2/family", data["at"]))["error"] == 401
    # Drop with 1006: the TCP connection goes away without a close frame.
    ws, _ = await app_session(http, sim, api, "owner@example.com", "owner-pw")
    assert await sim.drop_app_sockets() == 1
    msg = await ws.receive(timeout=2)
    assert msg.type in (aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR, aiohttp.WSMsgType.CLOSE)
    assert ws.close_code in (1006, None)
    ws, _ = await app_session(http, sim, api, "owner@example.com", "owner-pw")
    await sim.drop_app_sockets(code=1001)
    await ws.receive(timeout=2)
    assert ws.close_code == 1001
    # Half-open: the socket stays, nothing is answered or pushed, and no idle timeout fires.
    ws, _ = await app_session(http, sim, api, "owner@example.com", "owner-pw")
    assert sim.half_open_app_sockets() == 1
    await ws.send_str("ping")
    await devs["lamp"].report({"switch": "on"})
    await no_frame(ws, lambda f: True, 2.0)
    assert not ws.closed
    assert sim.app_sessions() == 1
    await ws.close()
    # Refused reconnects.
    sim.faults.refuse_ws_seconds = 0.5
    with pytest.raises(aiohttp.WSServerHandshakeError):
        await http.ws_connect(sim.ws_url)
    await asyncio.sleep(0.6)
    ws, _ = await app_session(http, sim, api, "owner@example.com", "owner-pw")
    await ws.close()


async def test_numeric_sequence_and_noise(world: World, devs: dict[str, VirtualDevice]) -> None:
    """numeric_sequence: numeric acks and `seq` strings in pushes; notify_noise interleaves frames."""
    sim = world.sim
    sim.faults.numeric_sequence = True
    sim.faults.notify_noise = True
    ws, _ = await app_session(world.api.http, sim, world.api, "owner@example.com", "owner-pw")
    apikey = world.owner.apikey
    await ws.send_json(update("1000000c01", apikey, {"switch": "on"}, "1700000000999"))
    assert (await next_frame(ws, is_ack(1700000000999)))["error"] == 0
    notify = await next_frame(ws, lambda f: isinstance(f, dict) and f.get("action") == "notify")
    assert notify["cmd"] == "incrementalDataNotify"
    push = await next_frame(ws, is_push("update", "1000000c01"))
    assert isinstance(push["seq"], str)
    await devs["child"].report({"temperature": "2000"})
    noise = await next_frame(
        ws, lambda f: isinstance(f, dict) and f.get("action") == "reportSubDevice"
    )
    assert noise["deviceid"] == "1000000c04"
    await ws.close()


async def test_device_register_rules(world: World, http: aiohttp.ClientSession) -> None:
    """Register needs the factory apikey; devices bound to nobody are told to wait (403)."""
    sim = world.sim
    udev = await sim.add_unpaired_device("10000abc01", 1, esptouch=False, ap_http=False)
    ws = await http.ws_connect(sim.ws_url)
    frame = {"userAgent": "device", "apikey": udev.factory_apikey, "deviceid": udev.deviceid,
             "action": "register", "version": 2, "romVersion": "3.5.0", "model": "PSF-B01-GL", "ts": 5}  # fmt: skip
    await ws.send_json(frame)
    assert (await ws.receive_json(timeout=2))["error"] in (403, 404, 415)
    await ws.send_json({**frame, "apikey": "not-the-key"})
    assert (await ws.receive_json(timeout=2))["error"] in (403, 404, 415)
    # Frames other than register are refused before registration.
    await ws.send_json(
        {
            "userAgent": "device",
            "apikey": udev.factory_apikey,
            "deviceid": udev.deviceid,
            "action": "date",
        }
    )
    assert (await ws.receive_json(timeout=2))["error"] != 0
    sim.bind_device(
        udev.device.factory,
        world.owner,
        name="Manual",
        familyid=None,
        roomid=None,
        sort=1,
        settings=None,
    )
    await ws.send_json({**frame, "version": "8", "d_seq": 1, "chipid": udev.chipid})
    reply = await ws.receive_json(timeout=2)
    assert reply == {
        "error": 0,
        "deviceid": udev.deviceid,
        "apikey": world.owner.apikey,
        "config": {"hb": 1, "hbInterval": 1},
    }
    await ws.send_json(
        {
            "userAgent": "device",
            "apikey": world.owner.apikey,
            "deviceid": udev.deviceid,
            "action": "date",
        }
    )
    date = await ws.receive_json(timeout=2)
    assert date["error"] == 0
    assert date["date"].endswith("Z")
    await ws.send_json(
        {
            "userAgent": "device",
            "apikey": world.owner.apikey,
            "deviceid": udev.deviceid,
            "action": "query",
            "params": ["schedules"],
        }
    )
    assert (await ws.receive_json(timeout=2))["params"] == 0
    await ws.send_json(
        {
            "userAgent": "device",
            "apikey": world.owner.apikey,
            "deviceid": udev.deviceid,
            "action": "update",
            "params": {"switch": "on", "schedules": []},
        }
    )
    assert (await ws.receive_json(timeout=2))["error"] == 0
    await ws.send_json(
        {
            "userAgent": "device",
            "apikey": world.owner.apikey,
            "deviceid": udev.deviceid,
            "action": "query",
            "params": ["schedules"],
        }
    )
    assert (await ws.receive_json(timeout=2))["params"] == {"schedules": []}
    assert sim.store.devices[udev.deviceid].online
    # Silence: the device socket is dropped after the idle timeout and the device goes offline.
    await sim.wait_for(lambda: not sim.store.devices[udev.deviceid].online, timeout=4)
    await ws.close()


async def test_device_silent_power_cut(world: World, devs: dict[str, VirtualDevice]) -> None:
    """A device that goes silent without closing its socket is dropped by the idle timeout."""
    lamp = devs["lamp"]
    await lamp.go_offline(silent=True, timeout=5)
    assert not lamp.online
    await lamp.go_online()
