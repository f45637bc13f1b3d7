"""Every fault kind the soak and the integration tests inject: from Python and from `/_sim`.

One test per kind: socket drop (1000, 1006), half-open, device offline/online, ack delay and
drop, HTTP 500 on things/family, 412 storms, quota 403, takeover with and without revoked
tokens, a login racing a refresh, at expiry, rt expiry.
"""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import pytest

from simulator import SimulatorConfig, VirtualDevice

from .conftest import World, fast_config
from .helpers import app_session, is_ack, is_push, next_frame, no_frame


@pytest.fixture
def config() -> SimulatorConfig:
    """Short heartbeat (the idle timeout must not interfere within a test)."""
    return fast_config(hb_interval=5, device_ack_timeout=0.4)


async def admin(world: World, method: str, path: str, body: Any = None) -> Any:
    """Call the admin API; return the JSON answer (asserting HTTP 200)."""
    url = f"{world.sim.admin_url}{path}"
    async with world.api.http.request(method, url, json=body) as resp:
        assert resp.status == 200, await resp.text()
        return await resp.json()


async def login(world: World) -> dict[str, Any]:
    return await world.api.login("owner@example.com", "owner-pw")


async def family_error(world: World, at: str) -> int:
    return int((await world.api.bearer("GET", "/v2/family", at))["error"])


def update(deviceid: str, apikey: str, params: Any, sequence: str) -> dict[str, Any]:
    return {"action": "update", "deviceid": deviceid, "apikey": apikey, "userAgent": "app",
            "sequence": sequence, "params": params}  # fmt: skip


@pytest.fixture
async def lamp(world: World) -> VirtualDevice:
    """One online device."""
    return await world.sim.add_device(world.owner, "1000000f01", 1, "Lamp")


async def test_socket_drop_clean_and_abrupt(world: World) -> None:
    """Close 1000 sends a close frame; 1006 drops the TCP connection without one."""
    sim, http = world.sim, world.api.http
    ws, _ = await app_session(http, sim, world.api, "owner@example.com", "owner-pw")
    assert await sim.drop_app_sockets(code=1000) == 1
    msg = await ws.receive(timeout=3)
    assert msg.type is aiohttp.WSMsgType.CLOSE
    assert ws.close_code == 1000
    ws, _ = await app_session(http, sim, world.api, "owner@example.com", "owner-pw")
    assert await admin(world, "POST", "/sockets/drop", {"code": 1006}) == {"dropped": 1}
    msg = await ws.receive(timeout=3)
    assert msg.type in (aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR)
    assert ws.close_code != 1000


async def test_half_open(world: World, lamp: VirtualDevice) -> None:
    """TCP stays open; neither text nor protocol pings are answered; pushes are not delivered."""
    sim, http = world.sim, world.api.http
    for via_admin in (False, True):
        ws, _ = await app_session(http, sim, world.api, "owner@example.com", "owner-pw")
        if via_admin:
            assert await admin(world, "POST", "/sockets/half-open", {}) == {"half_open": 1}
        else:
            assert sim.half_open_app_sockets() == 1
        await ws.send_str("ping")
        await ws.ping()
        await lamp.report({"switch": "on" if via_admin else "off"})
        await no_frame(ws, lambda f: True, 1.0)
        assert not ws.closed
        await ws.close()


async def test_device_offline_and_online(world: World, lamp: VirtualDevice) -> None:
    """Offline: sysmsg to the app, REST commands 4002; online again: sysmsg and commands work."""
    sim, http = world.sim, world.api.http
    ws, data = await app_session(http, sim, world.api, "owner@example.com", "owner-pw")
    await lamp.go_offline()
    frame = await next_frame(ws, is_push("sysmsg", lamp.deviceid))
    assert frame["params"] == {"online": False}
    body = {"type": 1, "id": lamp.deviceid, "params": {"switch": "on"}}
    env = await world.api.bearer("POST", "/v2/device/thing/status", data["at"], body=body)
    assert env["error"] == 4002
    await admin(world, "POST", f"/devices/{lamp.deviceid}/online")
    frame = await next_frame(ws, is_push("sysmsg", lamp.deviceid))
    assert frame["params"] == {"online": True}
    await lamp.wait_online()
    env = await world.api.bearer("POST", "/v2/device/thing/status", data["at"], body=body)
    assert env["error"] == 0
    assert (await admin(world, "POST", f"/devices/{lamp.deviceid}/offline"))["online"] is False
    await ws.close()


async def test_ack_delay_and_drop(world: World, lamp: VirtualDevice) -> None:
    """A late ack still arrives (within the cloud's timeout); a dropped ack becomes 504."""
    sim, http = world.sim, world.api.http
    ws, _ = await app_session(http, sim, world.api, "owner@example.com", "owner-pw")
    apikey = world.owner.apikey
    lamp.ack_delay = 0.2
    await ws.send_json(update(lamp.deviceid, apikey, {"switch": "on"}, "1"))
    assert (await next_frame(ws, is_ack("1")))["error"] == 0
    await admin(world, "POST", f"/devices/{lamp.deviceid}/faults", {"ack_delay": 0})
    assert lamp.ack_delay == 0
    sim.faults.drop_acks = True
    await ws.send_json(update(lamp.deviceid, apikey, {"switch": "off"}, "2"))
    assert (await next_frame(ws, is_ack("2")))["error"] == 504
    await admin(world, "POST", "/faults", {"drop_acks": False})
    await admin(world, "POST", f"/devices/{lamp.deviceid}/faults", {"drop_acks": True})
    await ws.send_json(update(lamp.deviceid, apikey, {"switch": "off"}, "3"))
    assert (await next_frame(ws, is_ack("3")))["error"] == 504
    await ws.close()


async def test_http_500_on_things_and_family(world: World) -> None:
    """Plain HTTP 500 per path, counted down or until cleared."""
    sim, api = world.sim, world.api
    at = (await login(world))["at"]
    sim.faults.fail_next("/v2/device/thing", 500, times=2)
    for _ in range(2):
        status, _body = await api.request("GET", "eu", "/v2/device/thing", at=at)
        assert status == 500
    assert (await api.bearer("GET", "/v2/device/thing", at))["error"] == 0
    await admin(world, "POST", "/faults", {"http_error": {"/v2/family": 500}})
    status, _body = await api.request("GET", "eu", "/v2/family", at=at)
    assert status == 500
    await admin(world, "POST", "/faults", {"http_error": {}})
    assert await family_error(world, at) == 0


async def test_412_storm(world: World) -> None:
    """Every REST call answers 412 for the given time, then the storm ends by itself."""
    sim, api = world.sim, world.api
    at = (await login(world))["at"]
    sim.faults.rest_412_seconds = 0.5
    assert await family_error(world, at) == 412
    env = await api.call(
        "POST", "eu", "/v2/user/login", body={"email": "owner@example.com", "password": "owner-pw"}
    )
    assert env["error"] == 412
    await asyncio.sleep(0.6)
    assert await family_error(world, at) == 0
    faults = await admin(world, "POST", "/faults", {"rest_412_seconds": 30})
    assert faults["rest_412_seconds"] > 29
    assert await family_error(world, at) == 412
    await admin(world, "POST", "/faults", {"rest_412_seconds": 0})
    assert await family_error(world, at) == 0


async def test_quota_403(world: World) -> None:
    """HTTP 403 without an envelope: until cleared (`quota_exhausted`) or for a time."""
    sim, api = world.sim, world.api
    at = (await login(world))["at"]
    sim.faults.quota_403_seconds = 0.5
    status, body = await api.request("GET", "eu", "/v2/family", at=at)
    assert (status, body) == (403, "Forbidden")
    await asyncio.sleep(0.6)
    assert await family_error(world, at) == 0
    await admin(world, "POST", "/faults", {"quota_exhausted": "http403"})
    status, _body = await api.request("GET", "eu", "/v2/device/thing", at=at)
    assert status == 403
    await admin(world, "POST", "/faults/reset")
    assert await family_error(world, at) == 0


@pytest.mark.parametrize("keep_refresh", [False, True])
async def test_takeover(world: World, keep_refresh: bool) -> None:
    """406 + close 1000 on the socket, REST 401; the rt dies too unless `keep_refresh`."""
    sim, http, api = world.sim, world.api.http, world.api
    for via_admin in (False, True):
        ws, data = await app_session(http, sim, api, "owner@example.com", "owner-pw")
        if via_admin:
            body = {"appid": api.app.appid, "keep_refresh": keep_refresh}
            assert await admin(world, "POST", "/accounts/owner@example.com/kick", body) == {
                "kicked": True
            }
        else:
            assert await sim.kick_session(world.owner, api.app.appid, keep_refresh=keep_refresh)
        assert (await next_frame(ws))["error"] == 406
        await ws.receive(timeout=3)
        assert ws.close_code == 1000
        assert await family_error(world, data["at"]) == 401
        env = await api.call("POST", "eu", "/v2/user/refresh", body={"rt": data["rt"]})
        assert env["error"] == (0 if keep_refresh else 405)


async def test_login_elsewhere_right_after_a_refresh(world: World) -> None:
    """The renewed at is revoked at once by another sign-in (a client racing for the session)."""
    api = world.api
    data = await login(world)
    await admin(world, "POST", "/faults", {"login_elsewhere_after_refresh": 1})
    env = await api.call("POST", "eu", "/v2/user/refresh", body={"rt": data["rt"]})
    assert env["error"] == 0
    assert await family_error(world, env["data"]["at"]) == 401
    assert world.sim.faults.login_elsewhere_after_refresh == 0


async def test_at_expiry(world: World) -> None:
    """The at stops working now: REST 402, a new handshake 406; `close` drops live sockets."""
    sim, http, api = world.sim, world.api.http, world.api
    ws, data = await app_session(http, sim, api, "owner@example.com", "owner-pw")
    assert sim.expire_tokens(world.owner, api.app.appid, close=1006) == 1
    msg = await ws.receive(timeout=3)
    assert msg.type in (aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR)
    assert await family_error(world, data["at"]) == 402
    env = await api.call("POST", "eu", "/v2/user/refresh", body={"rt": data["rt"]})
    assert env["error"] == 0
    ws, data = await app_session(http, sim, api, "owner@example.com", "owner-pw")
    body = {"appid": api.app.appid, "close": 1000}
    assert await admin(world, "POST", "/accounts/owner@example.com/expire", body) == {
        "expired": True, "closed": 1
    }  # fmt: skip
    await ws.receive(timeout=3)
    assert ws.close_code == 1000
    assert await family_error(world, data["at"]) == 402


async def test_rt_expiry(world: World) -> None:
    """The rt stops working: refresh answers 405 (the at may still work)."""
    sim, api = world.sim, world.api
    data = await login(world)
    sim.expire_tokens(world.owner, api.app.appid, access=False, refresh=True)
    assert await family_error(world, data["at"]) == 0
    env = await api.call("POST", "eu", "/v2/user/refresh", body={"rt": data["rt"]})
    assert env["error"] == 405
    data = await login(world)
    body = {"appid": api.app.appid, "access": True, "refresh": True}
    await admin(world, "POST", "/accounts/owner@example.com/expire", body)
    assert await family_error(world, data["at"]) == 402
    env = await api.call("POST", "eu", "/v2/user/refresh", body={"rt": data["rt"]})
    assert env["error"] == 405
