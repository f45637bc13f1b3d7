"""The admin HTTP API under /_sim/."""

from __future__ import annotations

from typing import Any

import aiohttp

from .conftest import World
from .helpers import app_session, is_ack, is_push, next_frame


async def admin(
    http: aiohttp.ClientSession, world: World, method: str, path: str, body: Any = None
) -> tuple[int, Any]:
    async with http.request(method, f"{world.sim.admin_url}{path}", json=body) as resp:
        return resp.status, await resp.json()


async def test_index_state_and_devices(world: World) -> None:
    """Index, state, add/read/report/offline/online/remove a device over HTTP."""
    http = world.api.http
    status, routes = await admin(http, world, "GET", "")
    assert status == 200
    assert {"method": "POST", "path": "/_sim/devices/{deviceid}/params"} in [
        {"method": r["method"], "path": r["path"]} for r in routes
    ]
    description = {
        "deviceid": "1000000aa1", "uiid": 2, "name": "Admin dual", "params": {"sledOnline": "off"},
        "online": True, "brandName": "SONOFF", "productModel": "DUALR2", "tags": {"t": 1},
        "shared_with": ["friend@example.com"], "owner": "owner@example.com", "home": "Home", "room": "Kitchen",
    }  # fmt: skip
    status, added = await admin(http, world, "POST", "/devices", description)
    assert (status, added) == (200, {"deviceid": "1000000aa1", "online": True})
    cloud = world.sim.store.devices["1000000aa1"]
    assert cloud.shared_with(world.friend) is not None
    assert cloud.roomid == world.home.rooms["Kitchen"]
    assert cloud.tags == {"t": 1}
    status, truth = await admin(http, world, "GET", "/devices")
    assert truth["1000000aa1"]["online"] is True
    assert truth["1000000aa1"]["params"]["sledOnline"] == "off"
    ws, _ = await app_session(http, world.sim, world.api, "friend@example.com", "friend-pw")
    status, _ = await admin(
        http, world, "POST", "/devices/1000000aa1/params", {"params": {"sledOnline": "on"}}
    )
    assert status == 200
    assert (await next_frame(ws, is_push("update", "1000000aa1")))["params"] == {"sledOnline": "on"}
    status, one = await admin(http, world, "GET", "/devices/1000000aa1")
    assert one["cloud_params"]["sledOnline"] == "on"
    status, body = await admin(http, world, "POST", "/devices/1000000aa1/offline")
    assert body["online"] is False
    assert (await next_frame(ws, is_push("sysmsg", "1000000aa1")))["params"] == {"online": False}
    status, body = await admin(http, world, "POST", "/devices/1000000aa1/online")
    assert body["online"] is True
    status, body = await admin(
        http,
        world,
        "POST",
        "/devices/1000000aa1/faults",
        {"drop_acks": True, "ack_delay": 0.1, "echo": False},
    )
    assert body == {"ack_delay": 0.1, "drop_acks": True, "echo": False}
    await ws.send_json({"action": "update", "deviceid": "1000000aa1", "apikey": world.owner.apikey,
                        "selfApikey": world.friend.apikey, "userAgent": "app", "sequence": "a1",
                        "params": {"switches": [{"outlet": 0, "switch": "on"}]}})  # fmt: skip
    assert (await next_frame(ws, is_ack("a1")))["error"] == 504
    status, _ = await admin(http, world, "DELETE", "/devices/1000000aa1")
    assert status == 200
    assert "1000000aa1" not in world.sim.device_truth()
    status, _ = await admin(http, world, "GET", "/devices/1000000aa1")
    assert status == 404
    status, _ = await admin(
        http, world, "POST", "/devices", {"uiid": 1, "owner": "nobody@example.com"}
    )
    assert status == 404
    status, state = await admin(http, world, "GET", "/state")
    assert state["devices"]["bound"] == 0
    assert [a["email"] for a in state["accounts"]] == ["owner@example.com", "friend@example.com"]
    await ws.close()


async def test_sessions_kick_expire_drop(world: World) -> None:
    """Sessions, kick, expire, drop and half-open over HTTP."""
    http, sim = world.api.http, world.sim
    ws, data = await app_session(http, sim, world.api, "owner@example.com", "owner-pw")
    status, body = await admin(http, world, "GET", "/sessions")
    assert body == {"total": 1, "by_account": {"owner@example.com": 1, "friend@example.com": 0}}
    status, body = await admin(
        http, world, "POST", f"/accounts/{world.owner.apikey}/expire", {"appid": world.app.appid}
    )
    assert body == {"expired": True}
    assert (await world.api.bearer("GET", "/v2/family", data["at"]))["error"] == 402
    status, body = await admin(
        http, world, "POST", "/accounts/owner@example.com/kick", {"appid": world.app.appid}
    )
    assert body == {"kicked": True}
    assert (await next_frame(ws))["error"] == 406
    await ws.close()
    ws, _ = await app_session(http, sim, world.api, "owner@example.com", "owner-pw")
    status, body = await admin(
        http, world, "POST", "/sockets/half-open", {"account": "owner@example.com"}
    )
    assert body == {"half_open": 1}
    status, body = await admin(http, world, "POST", "/sockets/drop", {"code": 1000})
    assert body == {"dropped": 1}
    await ws.close()
    data = await world.api.login("owner@example.com", "owner-pw")
    status, body = await admin(http, world, "POST", "/accounts/owner@example.com/kick", {})
    assert body == {"kicked": True}
    assert (await world.api.bearer("GET", "/v2/family", data["at"]))["error"] == 401
    status, body = await admin(
        http, world, "POST", "/accounts/owner@example.com/kick", {"appid": 5}
    )
    assert status == 400


async def test_faults_requests_wifi_unpaired(world: World) -> None:
    """Fault knobs, the request log, the Wi-Fi and the unpaired devices over HTTP."""
    http, sim = world.api.http, world.sim
    status, faults = await admin(http, world, "GET", "/faults")
    assert faults["quota_exhausted"] is None
    status, faults = await admin(
        http,
        world,
        "POST",
        "/faults",
        {"quota_exhausted": "412", "http_error": {"/v2/family": 500}},
    )
    assert faults["quota_exhausted"] == "412"
    assert sim.faults.http_error == {"/v2/family": 500}
    status, body = await admin(http, world, "POST", "/faults", {"no_such_knob": 1})
    assert status == 400
    env = await world.api.call(
        "POST", "eu", "/v2/user/login", body={"email": "owner@example.com", "password": "owner-pw"}
    )
    assert env["error"] == 412
    status, faults = await admin(http, world, "POST", "/faults/reset")
    assert faults["quota_exhausted"] is None
    status, faults = await admin(http, world, "POST", "/faults", {"refuse_ws_seconds": 5})
    assert faults["refuse_ws_seconds"] > 4
    status, log = await admin(http, world, "GET", "/requests")
    assert log[-1][1:] == ["POST", "/eu/v2/user/login", world.app.appid]
    await admin(http, world, "DELETE", "/requests")
    assert sim.requests == []
    status, body = await admin(http, world, "POST", "/rate-limits/reset")
    assert body == {"reset": True}
    status, wifi = await admin(
        http, world, "POST", "/wifi", {"ssid": "Other", "password": "pw12345678"}
    )
    assert wifi["ssid"] == "Other"
    assert sim.wifi.password == "pw12345678"
    udev = await sim.add_unpaired_device()
    status, unpaired = await admin(http, world, "GET", "/unpaired")
    assert unpaired[0]["deviceid"] == udev.deviceid
    assert unpaired[0]["http_url"] == udev.http_url
    assert unpaired[0]["udp_port"] == udev.udp_port
    status, body = await admin(http, world, "POST", "/faults", [1, 2])
    assert status == 400
