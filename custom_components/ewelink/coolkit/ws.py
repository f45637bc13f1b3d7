"""The CoolKit long connection (coolkit-cloud.md §9, §12).

`LongConnection.run()` dispatches, opens the websocket, sends `userOnline`, keeps the socket
alive with text `ping` frames and a pong watchdog, and delivers pushed `update` and `sysmsg`
frames to one callback as `DeviceUpdate` / `DeviceOnline` events. It reconnects with
exponential backoff and full jitter, reacts to a taken-over session (406) through the client's
recovery rule, and only returns by raising `ReauthRequiredError` (or when cancelled).

Commands (`update`, `query`) go through one queue that keeps frames at least 100 ms apart and
are matched to their acks by `sequence`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Mapping
import contextlib
from dataclasses import dataclass
from enum import StrEnum
import json
import logging
import random
import time
from typing import Any

import aiohttp

from .client import CoolkitClient
from .errors import (
    AckTimeoutError,
    CommandRejectedError,
    CoolkitApiError,
    CoolkitConnectionError,
    CoolkitError,
    DeviceOfflineError,
    DeviceTimeoutError,
    NotConnectedError,
    RateLimitedError,
    ReauthRequiredError,
    SessionTakenOverError,
)
from .models import DeviceEvent, DeviceOnline, DeviceUpdate
from .signing import nonce

_LOGGER = logging.getLogger(__name__)

DEFAULT_HB_INTERVAL = 90
HANDSHAKE_TIMEOUT = 15.0
ACK_TIMEOUT = 8.0
COMMAND_INTERVAL = 0.1
HANDSHAKE_INTERVAL = 2.0  # never send userOnline faster than this
BACKOFF_BASE = 5.0
BACKOFF_MAX = 300.0
TAKEOVER_BACKOFF_BASE = 60.0
TAKEOVER_BACKOFF_MAX = 1800.0
QUICK_RETRY = (0.5, 1.5)
QUICK_RETRY_EVERY = 60.0  # at most one quick retry per minute, so a flapping server backs off
MAX_PONG_TIMEOUT = 30.0


class ConnectionState(StrEnum):
    """State of the long connection."""

    CONNECTING = "connecting"
    CONNECTED = "connected"
    DISCONNECTED = "disconnected"
    TAKEN_OVER = "taken_over"
    AUTH_REQUIRED = "auth_required"


@dataclass(slots=True)
class ConnectionStats:
    """Counters for diagnostics."""

    connects: int = 0
    disconnects: int = 0
    takeovers: int = 0
    frames_received: int = 0
    frames_sent: int = 0
    updates: int = 0
    sysmsgs: int = 0
    ignored: int = 0
    malformed: int = 0
    hb_interval: float | None = None
    connected_since: float | None = None
    last_error: str | None = None


class _ConnectionDeadError(CoolkitConnectionError):
    """The pong watchdog fired: the socket is dead or half open."""


type EventCallback = Callable[[DeviceEvent], None]
type StateCallback = Callable[[ConnectionState], None]


def ping_interval(hb_interval: float) -> float:
    """Return how often to send `ping`: `hbInterval - 7` s (safe under both readings, §12.3).

    Short intervals (test servers) ping at half the interval instead.
    """
    if hb_interval >= 20:
        return hb_interval - 7
    return max(hb_interval / 2, 0.1)


class LongConnection:
    """The app websocket of one account."""

    def __init__(
        self,
        client: CoolkitClient,
        on_event: EventCallback,
        on_state: StateCallback | None = None,
        *,
        ack_timeout: float = ACK_TIMEOUT,
        command_interval: float = COMMAND_INTERVAL,
        handshake_interval: float = HANDSHAKE_INTERVAL,
        backoff_base: float = BACKOFF_BASE,
        backoff_max: float = BACKOFF_MAX,
        takeover_backoff_base: float = TAKEOVER_BACKOFF_BASE,
        rng: random.Random | None = None,
    ) -> None:
        """Create the connection; call `run()` in a task to start it."""
        self._client = client
        self._on_event = on_event
        self._on_state = on_state
        self._ack_timeout = ack_timeout
        self._command_interval = command_interval
        self._handshake_interval = handshake_interval
        self._backoff_base = backoff_base
        self._backoff_max = backoff_max
        self._takeover_backoff_base = takeover_backoff_base
        self._last_quick_retry: float | None = None
        self._rng = rng or random.Random()
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._queue: asyncio.Queue[str] = asyncio.Queue()
        self._pending: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._pong = asyncio.Event()
        self._last_sequence = 0
        self._revoked = False
        self.state = ConnectionState.DISCONNECTED
        self.stats = ConnectionStats()

    @property
    def connected(self) -> bool:
        """Return True while the handshake has succeeded and the socket is open."""
        return self.state is ConnectionState.CONNECTED

    def _set_state(self, state: ConnectionState) -> None:
        if state is self.state:
            return
        self.state = state
        if self._on_state is not None:
            try:
                self._on_state(state)
            except Exception:
                _LOGGER.exception("Connection state callback failed")

    # -- the loop ------------------------------------------------------------------------

    async def run(self) -> None:
        """Stay connected until cancelled; raise `ReauthRequiredError` when tokens are gone."""
        failures = 0
        takeovers = 0
        try:
            while True:
                delay: float
                self._set_state(ConnectionState.CONNECTING)
                try:
                    lived = await self._connect_and_serve()
                except SessionTakenOverError:
                    self.stats.takeovers += 1
                    self._set_state(ConnectionState.TAKEN_OVER)
                    try:
                        await self._client.recover_session()
                    except SessionTakenOverError:
                        takeovers += 1
                        delay = self._jitter(
                            self._takeover_backoff_base, takeovers, TAKEOVER_BACKOFF_MAX
                        )
                        _LOGGER.warning(
                            "eWeLink session taken over again; next attempt in %.0f s", delay
                        )
                    else:
                        delay = self._rng.uniform(*QUICK_RETRY)
                except RateLimitedError as err:
                    failures += 1
                    self.stats.last_error = str(err)
                    delay = max(err.retry_after, self._jitter(self._backoff_base, failures))
                except (CoolkitError, aiohttp.ClientError, OSError, TimeoutError) as err:
                    if isinstance(err, ReauthRequiredError):
                        raise
                    failures += 1
                    self.stats.last_error = f"{type(err).__name__}: {err}"
                    delay = self._jitter(self._backoff_base, failures)
                    _LOGGER.debug("Long connection failed (%s); retry in %.1f s", err, delay)
                else:
                    # The server ended an established session: retry quickly once, then back off.
                    takeovers = 0
                    now = time.monotonic()
                    last = self._last_quick_retry
                    if last is None or now - last >= QUICK_RETRY_EVERY:
                        self._last_quick_retry = now
                        failures = 0
                        delay = self._rng.uniform(*QUICK_RETRY)
                    else:
                        failures += 1
                        delay = self._jitter(self._backoff_base, failures)
                    _LOGGER.debug(
                        "Long connection closed after %.0f s; retry in %.1f s", lived, delay
                    )
                if self.state is not ConnectionState.TAKEN_OVER:
                    self._set_state(ConnectionState.DISCONNECTED)
                await asyncio.sleep(delay)
        except ReauthRequiredError:
            self._set_state(ConnectionState.AUTH_REQUIRED)
            raise
        finally:
            if self.state is ConnectionState.CONNECTED:
                self._set_state(ConnectionState.DISCONNECTED)

    def _jitter(self, base: float, attempt: int, cap: float | None = None) -> float:
        """Exponential backoff with full jitter, never below one second."""
        ceiling = min(cap or self._backoff_max, base * 2 ** max(attempt - 1, 0))
        return max(1.0, self._rng.uniform(0, ceiling))

    async def _connect_and_serve(self) -> float:
        """Connect, serve until the socket ends; return how long it was connected."""
        dispatch = await self._client.dispatch()
        await self._client.ensure_fresh_tokens()
        await self._client.rate_limiter.acquire("ws:userOnline", self._handshake_interval)
        session = self._client.session
        ws = await session.ws_connect(
            dispatch.url,
            autoping=True,
            heartbeat=None,
            timeout=aiohttp.ClientWSTimeout(ws_close=5.0),
        )
        started = time.monotonic()
        try:
            hb_interval = await self._handshake(ws)
            self._ws = ws
            self._revoked = False
            self.stats.connects += 1
            self.stats.hb_interval = hb_interval
            self.stats.connected_since = time.time()
            self.stats.last_error = None
            _LOGGER.debug("Long connection up (hbInterval %s s)", hb_interval)
            self._set_state(ConnectionState.CONNECTED)
            await self._serve(ws, hb_interval)
        finally:
            self._ws = None
            if self.stats.connected_since is not None:
                self.stats.disconnects += 1
                self.stats.connected_since = None
            for future in self._pending.values():
                if not future.done():
                    future.set_exception(NotConnectedError("the long connection dropped"))
            self._pending.clear()
            while not self._queue.empty():
                self._queue.get_nowait()
            if not ws.closed:
                with contextlib.suppress(Exception):
                    await ws.close()
        if self._revoked:
            raise SessionTakenOverError("the cloud revoked the session (406)")
        return time.monotonic() - started

    async def _handshake(self, ws: aiohttp.ClientWebSocketResponse) -> float:
        client = self._client
        if client.tokens is None or not client.user_apikey:
            raise ReauthRequiredError("not signed in")
        sequence = self._next_sequence()
        frame = {
            "action": "userOnline",
            "version": 8,
            "ts": int(time.time()),
            "at": client.tokens.access_token,
            "userAgent": "app",
            "apikey": client.user_apikey,
            "appid": client.app_id,
            "nonce": nonce(),
            "sequence": sequence,
        }
        await ws.send_str(json.dumps(frame, separators=(",", ":")))
        self.stats.frames_sent += 1
        async with asyncio.timeout(HANDSHAKE_TIMEOUT):
            while True:
                msg = await ws.receive()
                if msg.type is not aiohttp.WSMsgType.TEXT:
                    raise CoolkitConnectionError(f"handshake ended by {msg.type.name}")
                if msg.data == "pong":
                    continue
                try:
                    reply = json.loads(msg.data)
                except ValueError as err:
                    raise CoolkitConnectionError("handshake answer is not JSON") from err
                if isinstance(reply, dict) and "action" not in reply:
                    break
        error = reply.get("error")
        if error == 406:
            raise SessionTakenOverError("userOnline refused (406)")
        if error != 0:
            raise CoolkitApiError(error if isinstance(error, int) else -1, "userOnline refused")
        config = reply.get("config")
        hb = config.get("hbInterval") if isinstance(config, Mapping) else None
        return float(hb) if isinstance(hb, int | float) and hb > 0 else DEFAULT_HB_INTERVAL

    async def _serve(self, ws: aiohttp.ClientWebSocketResponse, hb_interval: float) -> None:
        tasks = {
            asyncio.create_task(self._read(ws), name="coolkit-ws-read"),
            asyncio.create_task(self._heartbeat(ws, hb_interval), name="coolkit-ws-heartbeat"),
            asyncio.create_task(self._send_queued(ws), name="coolkit-ws-send"),
        }
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        for task in done:
            if (exc := task.exception()) is not None:
                raise exc

    async def _read(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        async for msg in ws:
            if msg.type is aiohttp.WSMsgType.TEXT:
                self._handle_text(msg.data)
            elif msg.type is aiohttp.WSMsgType.ERROR:
                raise CoolkitConnectionError("websocket error")
            else:
                self.stats.ignored += 1

    async def _heartbeat(self, ws: aiohttp.ClientWebSocketResponse, hb_interval: float) -> None:
        every = ping_interval(hb_interval)
        pong_timeout = min(MAX_PONG_TIMEOUT, every)
        while True:
            await asyncio.sleep(every)
            self._pong.clear()
            await ws.send_str("ping")
            self.stats.frames_sent += 1
            try:
                async with asyncio.timeout(pong_timeout):
                    await self._pong.wait()
            except TimeoutError:
                _LOGGER.info("No pong within %.0f s; the long connection is dead", pong_timeout)
                raise _ConnectionDeadError("no pong") from None

    async def _send_queued(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        last = 0.0
        while True:
            frame = await self._queue.get()
            wait = last + self._command_interval - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            await ws.send_str(frame)
            last = time.monotonic()
            self.stats.frames_sent += 1

    # -- incoming frames (hot path) ------------------------------------------------------

    def _handle_text(self, text: str) -> None:
        self.stats.frames_received += 1
        if text == "pong":
            self._pong.set()
            return
        try:
            data = json.loads(text)
        except ValueError:
            self.stats.malformed += 1
            _LOGGER.warning("Skipping a frame that is not JSON (%d characters)", len(text))
            return
        if not isinstance(data, dict):
            self.stats.malformed += 1
            _LOGGER.warning("Skipping a frame that is not a JSON object")
            return
        action = data.get("action")
        if action is None:
            self._handle_reply(data)
            return
        deviceid = data.get("deviceid")
        if action == "update":
            params = _merge_params(data.get("params"))
            if not isinstance(deviceid, str) or params is None:
                self.stats.malformed += 1
                _LOGGER.warning("Skipping a malformed update frame")
                return
            if not params:
                self.stats.ignored += 1
                return
            self.stats.updates += 1
            implies_online = len(params) != 1 or "subDevRssi" not in params
            self._emit(DeviceUpdate(deviceid, params, implies_online))
        elif action == "sysmsg":
            params = data.get("params")
            online = params.get("online") if isinstance(params, dict) else None
            if not isinstance(deviceid, str) or not isinstance(online, bool):
                self.stats.ignored += 1
                _LOGGER.debug("Ignoring a sysmsg without an online flag")
                return
            self.stats.sysmsgs += 1
            self._emit(DeviceOnline(deviceid, online))
        else:
            self.stats.ignored += 1
            _LOGGER.debug("Ignoring a frame with action %r", action)

    def _handle_reply(self, data: dict[str, Any]) -> None:
        sequence = data.get("sequence")
        future = self._pending.get(str(sequence)) if sequence is not None else None
        if future is not None:
            if not future.done():
                future.set_result(data)
            return
        if data.get("error") == 406:
            # The cloud revoked this session and closes the socket next (§12.7).
            self._revoked = True
            return
        self.stats.ignored += 1
        _LOGGER.debug("Ignoring a reply that matches no pending command")

    def _emit(self, event: DeviceEvent) -> None:
        try:
            self._on_event(event)
        except Exception:
            _LOGGER.exception("Event callback failed for %s", type(event).__name__)

    # -- commands ------------------------------------------------------------------------

    def _next_sequence(self) -> str:
        """Return a millisecond timestamp, unique for this connection (§12.8)."""
        self._last_sequence = max(int(time.time() * 1000), self._last_sequence + 1)
        return str(self._last_sequence)

    async def send_update(
        self, deviceid: str, params: Mapping[str, Any], owner_apikey: str
    ) -> dict[str, Any]:
        """Send `update` to a device and wait for its ack."""
        return await self._command("update", deviceid, dict(params), owner_apikey)

    async def query(
        self, deviceid: str, owner_apikey: str, params: Iterable[str] = ()
    ) -> dict[str, Any]:
        """Ask a device for its state (all params when empty); return the params."""
        reply = await self._command("query", deviceid, list(params), owner_apikey)
        state = reply.get("params")
        if not isinstance(state, dict):
            state = reply.get("config")
        return dict(state) if isinstance(state, dict) else {}

    async def _command(
        self, action: str, deviceid: str, params: object, owner_apikey: str
    ) -> dict[str, Any]:
        if not self.connected:
            raise NotConnectedError("the long connection is down")
        sequence = self._next_sequence()
        frame = {
            "action": action,
            "deviceid": deviceid,
            "apikey": owner_apikey,
            "selfApikey": self._client.user_apikey,
            "userAgent": "app",
            "sequence": sequence,
            "ts": 0,
            "params": params,
        }
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[sequence] = future
        self._queue.put_nowait(json.dumps(frame, separators=(",", ":")))
        try:
            async with asyncio.timeout(self._ack_timeout):
                reply = await future
        except TimeoutError:
            raise AckTimeoutError(504, f"no answer within {self._ack_timeout:.0f} s") from None
        finally:
            self._pending.pop(sequence, None)
        error = reply.get("error")
        if error == 0:
            return reply
        code = error if isinstance(error, int) else -1
        if code in (503, 4002):
            raise DeviceOfflineError(code, "device offline")
        if code == 504:
            raise DeviceTimeoutError(code, "device did not answer")
        if code == 406:
            raise CommandRejectedError(code, "not permitted")
        raise CoolkitApiError(code, f"{action} failed")


def _merge_params(params: object) -> dict[str, Any] | None:
    """Return `params` as one dict; an array of objects is merged in order (§13.16)."""
    if isinstance(params, dict):
        return params
    if isinstance(params, list) and all(isinstance(item, dict) for item in params):
        merged: dict[str, Any] = {}
        for item in params:
            merged.update(item)
        return merged
    return None
