"""The OAuth2 authorization page and the code exchange."""

from __future__ import annotations

import asyncio
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

import aiohttp
import yarl

from simulator import App

from .conftest import REDIRECT, World
from .helpers import sign, user_online, ws_open


def page_params(app: App, redirect: str = REDIRECT, **overrides: str) -> dict[str, str]:
    """Return the authorization page's query, signed as a client would."""
    seq = str(int(time.time() * 1000))
    params = {
        "clientId": app.appid,
        "seq": seq,
        "authorization": sign(app.secret, f"{app.appid}_{seq}".encode()),
        "redirectUrl": redirect,
        "grantType": "authorization_code",
        "state": "opaque-state-1",
        "nonce": "a1b2c3d4",
        "showQRCode": "false",
    }
    params.update(overrides)
    return params


async def authorize(
    world: World, account: str, password: str, app: App | None = None
) -> dict[str, str]:
    """Walk the page: GET the form, POST credentials, return the redirect's query."""
    app = app or world.oauth_app
    http = world.api.http
    params = page_params(app)
    async with http.get(world.sim.oauth_url, params=params) as resp:
        assert resp.status == 200
        html = await resp.text()
    assert "<form" in html
    assert 'name="state"' in html
    form = {**params, "account": account, "password": password}
    async with http.post(world.sim.oauth_url, data=form, allow_redirects=False) as resp:
        assert resp.status == 302, await resp.text()
        location = resp.headers["Location"]
    parts = urlsplit(location)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == REDIRECT
    return {k: v[0] for k, v in parse_qs(parts.query).items()}


async def exchange(
    world: World, code: str, region: str = "eu", app: App | None = None, **extra: Any
) -> dict[str, Any]:
    """Exchange a code for tokens; return the envelope."""
    body = {"code": code, "redirectUrl": REDIRECT, "grantType": "authorization_code", **extra}
    return await world.api.call(
        "POST", region, "/v2/user/oauth/token", body=body, app=app or world.oauth_app
    )


async def test_page_validates_every_parameter(world: World) -> None:
    """Missing parameters, a bad authorization HMAC or an unregistered redirect URL: 400."""
    http, url = world.api.http, world.sim.oauth_url
    good = page_params(world.oauth_app)
    for name in ("clientId", "seq", "authorization", "redirectUrl", "grantType", "state", "nonce"):
        params = {k: v for k, v in good.items() if k != name}
        async with http.get(url, params=params) as resp:
            assert resp.status == 400, name
    bad_cases = [
        {"authorization": sign("wrong", f"{world.oauth_app.appid}_{good['seq']}".encode())},
        {"redirectUrl": "https://evil.example/cb"},
        {"grantType": "password"},
        {"clientId": "NoSuchApp"},
    ]
    for override in bad_cases:
        async with http.get(url, params={**good, **override}) as resp:
            assert resp.status == 400, override
    async with http.get(url, params={k: v for k, v in good.items() if k != "showQRCode"}) as resp:
        assert resp.status == 200


async def test_wrong_credentials_show_the_form_again(world: World) -> None:
    """Wrong credentials answer 200 with the form and an error."""
    params = page_params(world.oauth_app)
    form = {**params, "account": "owner@example.com", "password": "wrong"}
    async with world.api.http.post(world.sim.oauth_url, data=form, allow_redirects=False) as resp:
        assert resp.status == 200
        text = await resp.text()
    assert "Incorrect account or password" in text
    assert "<form" in text


async def test_code_exchange_and_profile(world: World) -> None:
    """Login on the page, redirect with code/region/state, exchange on the region, use the at."""
    query = await authorize(world, "owner@example.com", "owner-pw")
    assert query["region"] == "eu"
    assert query["state"] == "opaque-state-1"
    env = await exchange(world, query["code"])
    assert env["error"] == 0, env
    data = env["data"]
    assert set(data) == {"accessToken", "atExpiredTime", "refreshToken", "rtExpiredTime"}
    now_ms = time.time() * 1000
    assert 29 * 86400e3 < data["atExpiredTime"] - now_ms <= 30 * 86400e3 + 1000
    assert 59 * 86400e3 < data["rtExpiredTime"] - now_ms <= 60 * 86400e3 + 1000
    env = await world.api.bearer(
        "GET", "/v2/user/profile", data["accessToken"], app=world.oauth_app
    )
    assert env["data"]["user"]["apikey"] == world.owner.apikey
    env = await world.api.call(
        "POST", "eu", "/v2/user/refresh", body={"rt": data["refreshToken"]}, app=world.oauth_app
    )
    assert env["error"] == 0
    assert set(env["data"]) == {"at", "rt"}
    ws, reply = await ws_open(
        world.api.http,
        world.sim,
        user_online(env["data"]["at"], world.owner.apikey, world.oauth_app.appid),
    )
    assert reply is not None
    assert reply["error"] == 0
    await ws.close()
    world.sim.faults.oauth_profile_denied = True
    env = await world.api.bearer("GET", "/v2/user/profile", env["data"]["at"], app=world.oauth_app)
    assert env["error"] == 407


async def test_code_is_single_use_and_region_bound(world: World) -> None:
    """Reuse gives 405; the wrong region gives 405 without consuming the code."""
    query = await authorize(world, "owner@example.com", "owner-pw")
    for region in ("cn", "us", "as"):
        env = await exchange(world, query["code"], region=region)
        assert env == {"error": 405, "msg": "invalid code", "data": {}}
    env = await exchange(world, query["code"], region="eu")
    assert env["error"] == 0
    env = await exchange(world, query["code"], region="eu")
    assert env["error"] == 405


async def test_code_expiry_signature_and_binding(world: World) -> None:
    """Expired codes, another app's code, a bad Sign and a different redirectUrl are refused."""
    world.sim.config.oauth_code_ttl = 0.2
    query = await authorize(world, "owner@example.com", "owner-pw")
    await asyncio.sleep(0.3)
    assert (await exchange(world, query["code"]))["error"] == 405
    world.sim.config.oauth_code_ttl = 30.0
    query = await authorize(world, "owner@example.com", "owner-pw")
    other = world.sim.add_app(
        "OtherOAuthApp000000000000000004",
        "OtherOAuthSecret00000000000004",
        redirect_urls=[REDIRECT],
    )
    assert (await exchange(world, query["code"], app=other))["error"] == 405
    body = {"code": query["code"], "redirectUrl": REDIRECT, "grantType": "authorization_code"}
    _status, env = await world.api.request(
        "POST",
        "eu",
        "/v2/user/oauth/token",
        body=body,
        app=world.oauth_app,
        signature=sign("bad", b"x"),
    )
    assert env["error"] == 400
    env = await world.api.call(
        "POST",
        "eu",
        "/v2/user/oauth/token",
        body={**body, "redirectUrl": "http://other/cb"},
        app=world.oauth_app,
    )
    assert env["error"] != 0
    assert (await exchange(world, query["code"]))["error"] == 0


async def test_code_exchange_takes_over_the_session(world: World) -> None:
    """A new code exchange for the same (account, app) revokes the previous tokens and kicks WS."""
    first = (
        await exchange(world, (await authorize(world, "owner@example.com", "owner-pw"))["code"])
    )["data"]
    ws, reply = await ws_open(
        world.api.http,
        world.sim,
        user_online(first["accessToken"], world.owner.apikey, world.oauth_app.appid),
    )
    assert reply is not None
    assert reply["error"] == 0
    second = (
        await exchange(world, (await authorize(world, "owner@example.com", "owner-pw"))["code"])
    )["data"]
    kicked = await ws.receive_json(timeout=3)
    assert kicked["error"] == 406
    msg = await ws.receive(timeout=3)
    assert msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
    assert ws.close_code == 1000
    env = await world.api.bearer("GET", "/v2/family", first["accessToken"], app=world.oauth_app)
    assert env["error"] == 401
    env = await world.api.bearer("GET", "/v2/family", second["accessToken"], app=world.oauth_app)
    assert env["error"] == 0
    env = await world.api.bearer(
        "DELETE", "/v2/user/oauth/token", second["accessToken"], app=world.oauth_app
    )
    assert env["error"] == 0
    env = await world.api.bearer("GET", "/v2/family", second["accessToken"], app=world.oauth_app)
    assert env["error"] == 401


async def test_literal_plus_in_authorization(world: World) -> None:
    """A signature with `+` works sent unencoded (CoolKit's SDK) and percent-encoded."""
    app, http = world.oauth_app, world.api.http
    seq = next(
        str(n) for n in range(1_700_000_000_000, 1_700_000_001_000)
        if "+" in sign(app.secret, f"{app.appid}_{n}".encode())
    )  # fmt: skip
    params = page_params(
        app, seq=seq, authorization=sign(app.secret, f"{app.appid}_{seq}".encode())
    )
    assert "+" in params["authorization"]
    literal = "&".join(f"{k}={v}" for k, v in params.items())  # no encoding at all
    async with http.get(yarl.URL(f"{world.sim.oauth_url}?{literal}", encoded=True)) as resp:
        assert resp.status == 200, await resp.text()
    async with http.get(world.sim.oauth_url, params=params) as resp:  # %2B
        assert resp.status == 200, await resp.text()
    wrong = {**params, "authorization": params["authorization"].replace("+", "-")}
    async with http.get(world.sim.oauth_url, params=wrong) as resp:
        assert resp.status == 400
    # The form carries what the page received; a login after the literal form still works.
    form = {**params, "authorization": params["authorization"].replace("+", " ")}
    form |= {"account": "owner@example.com", "password": "owner-pw"}
    async with http.post(world.sim.oauth_url, data=form, allow_redirects=False) as resp:
        assert resp.status == 302, await resp.text()
