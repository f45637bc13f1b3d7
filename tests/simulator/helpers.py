"""A tiny CoolKit client for the simulator's tests.

Its signing is written here with hmac/hashlib on purpose, independent of the simulator's
verifier, so a bug in one cannot hide a bug in the other.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Callable
import hashlib
import hmac
import json
import time
from typing import TYPE_CHECKING, Any

import aiohttp

if TYPE_CHECKING:
    from simulator import App, Simulator

Json = dict[str, Any]
DEFAULT = object()


def sign(secret: str, message: bytes) -> str:
    """Return base64(HMAC-SHA256(secret, message))."""
    return base64.b64encode(hmac.new(secret.encode(), message, hashlib.sha256).digest()).decode()


def compact(body: Json) -> bytes:
    """Serialise a body once, compactly, as a client would before signing it."""
    return json.dumps(body, separators=(",", ":")).encode()


class Api:
    """REST calls against one simulator with one app ID."""

    def __init__(self, http: aiohttp.ClientSession, sim: Simulator, app: App) -> None:
        self.http = http
        self.sim = sim
        self.app = app

    async def request(
        self,
        method: str,
        region: str | None,
        path: str,
        *,
        body: Json | bytes | None = None,
        params: dict[str, str] | None = None,
        at: str | None = None,
        app: App | None = None,
        appid: Any = DEFAULT,
        signature: str | None = None,
        content_type: str = "application/json",
        headers: dict[str, str] | None = None,
    ) -> tuple[int, Any]:
        """Send one request; Sign unless `at` is given. Return (HTTP status, JSON or text)."""
        app = app or self.app
        base = self.sim.base_url
        url = f"{base}/{region}{path}" if region else f"{base}{path}"
        raw = compact(body) if isinstance(body, dict) else body
        hdrs: dict[str, str] = {"X-CK-Nonce": "a1b2c3d4"}
        if appid is DEFAULT:
            hdrs["X-CK-Appid"] = app.appid
        elif appid is not None:
            hdrs["X-CK-Appid"] = str(appid)
        if raw is not None:
            hdrs["Content-Type"] = content_type
        if at is not None:
            hdrs["Authorization"] = f"Bearer {at}"
        else:
            if method in ("GET", "DELETE"):
                message = "&".join(f"{k}={v}" for k, v in sorted((params or {}).items())).encode()
            else:
                message = raw or b""
            hdrs["Authorization"] = f"Sign {signature or sign(app.secret, message)}"
        hdrs.update(headers or {})
        async with self.http.request(method, url, data=raw, params=params, headers=hdrs) as resp:
            text = await resp.text()
            try:
                return resp.status, json.loads(text)
            except ValueError:
                return resp.status, text

    async def call(self, method: str, region: str | None, path: str, **kw: Any) -> Json:
        """Send a request and return the envelope (HTTP 200 expected)."""
        status, data = await self.request(method, region, path, **kw)
        assert status == 200, (status, data)
        assert isinstance(data, dict), data
        return data

    async def login(
        self, email: str, password: str, region: str = "eu", app: App | None = None
    ) -> Json:
        """Log in with a password; return `data` (asserting success)."""
        env = await self.call(
            "POST",
            region,
            "/v2/user/login",
            body={"email": email, "password": password, "countryCode": "+49"},
            app=app,
        )
        assert env["error"] == 0, env
        return env["data"]  # type: ignore[no-any-return]

    async def bearer(self, method: str, path: str, at: str, region: str = "eu", **kw: Any) -> Json:
        """Send a Bearer call and return the envelope."""
        return await self.call(method, region, path, at=at, **kw)


async def ws_open(
    http: aiohttp.ClientSession, sim: Simulator, hello: Json | None
) -> tuple[aiohttp.ClientWebSocketResponse, Json | None]:
    """Open `/api/ws`, send `hello` (if any) and return the socket and the reply."""
    ws = await http.ws_connect(sim.ws_url)
    if hello is None:
        return ws, None
    await ws.send_str(json.dumps(hello))
    reply = await ws.receive_json(timeout=3)
    return ws, reply


def user_online(at: str, apikey: str, appid: str, **extra: Any) -> Json:
    """Return a `userOnline` handshake frame."""
    frame: Json = {
        "action": "userOnline",
        "version": 8,
        "ts": int(time.time()),
        "at": at,
        "userAgent": "app",
        "apikey": apikey,
        "appid": appid,
        "nonce": "a1b2c3d4",
        "sequence": str(int(time.time() * 1000)),
    }
    frame.update(extra)
    return frame


async def app_session(
    http: aiohttp.ClientSession, sim: Simulator, api: Api, email: str, password: str
) -> tuple[aiohttp.ClientWebSocketResponse, Json]:
    """Log in and open an app websocket; return the socket and the login data."""
    data = await api.login(email, password)
    ws, reply = await ws_open(
        http, sim, user_online(data["at"], data["user"]["apikey"], api.app.appid)
    )
    assert reply is not None
    assert reply["error"] == 0, reply
    return ws, data


async def next_frame(
    ws: aiohttp.ClientWebSocketResponse,
    match: Callable[[Any], bool] = lambda _f: True,
    timeout: float = 3.0,
) -> Any:
    """Return the next text frame (JSON-decoded when possible) matching `match`; skip others."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        remaining = deadline - asyncio.get_running_loop().time()
        if remaining <= 0:
            raise TimeoutError("no matching frame")
        msg = await ws.receive(timeout=remaining)
        if msg.type != aiohttp.WSMsgType.TEXT:
            raise ConnectionError(f"socket closed: {msg.type} {ws.close_code}")
        try:
            frame: Any = json.loads(msg.data)
        except ValueError:
            frame = msg.data
        if match(frame):
            return frame


async def no_frame(
    ws: aiohttp.ClientWebSocketResponse, match: Callable[[Any], bool], within: float
) -> None:
    """Assert that no frame matching `match` arrives within `within` seconds."""
    try:
        frame = await next_frame(ws, match, timeout=within)
    except TimeoutError:
        return
    raise AssertionError(f"unexpected frame {frame!r}")


def is_ack(sequence: Any) -> Callable[[Any], bool]:
    """Match the reply (no action) carrying this sequence."""
    return lambda f: isinstance(f, dict) and "action" not in f and f.get("sequence") == sequence


def is_push(action: str, deviceid: str) -> Callable[[Any], bool]:
    """Match a push of this action for this device."""
    return lambda f: (
        isinstance(f, dict) and f.get("action") == action and f.get("deviceid") == deviceid
    )
