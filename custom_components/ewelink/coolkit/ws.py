"""The CoolKit long connection (coolkit-cloud.md §9, §12).

`LongConnection.run()` dispatches, opens the websocket, sends `userOnline`, keeps the socket
alive and delivers pushed `update` and `sysmsg` frames to one callback as `DeviceUpdate` /
`DeviceOnline` events. It reconnects with exponential backoff and full jitter and only returns
by raising `ReauthRequiredError` (or when cancelled).

Tokens: the access token handed to `userOnline` is never past half its life (or about to
expire), and is refreshed on a timer while connected. A handshake refused with 401/402/406 is
refreshed and retried once; only a refusal right after that refresh, or a 406 kick of a live
socket, is a takeover, handled by the client's rule (`CoolkitClient.recover_session`).

Liveness: a probe (an RFC 6455 ping, or the text `ping` often enough for the server's idle
timer, §12.3) goes out every `probe_interval` and any frame must come back within
`pong_timeout`, so a half-open socket is detected within min(hbInterval / 4, 30 s).

Commands (`update`, `query`) go through one queue that keeps frames at least 100 ms apart and
are matched to their acks by `sequence`. Incoming frames are untrusted: every shape is
validated and nothing raises out of the frame handler.
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
    CoolkitTimeoutError,
    DeviceOfflineError,
    DeviceTimeoutError,
    NotConnectedError,
    RateLimitedError,
    ReauthRequiredError,
    SessionTakenOverError,
)
from .models import DeviceEvent, DeviceOnline, DeviceUpdate, is_valid_id, sanitize_params
from .signing import nonce

_LOGGER = logging.getLogger(__name__)

DEFAULT_HB_INTERVAL = 90
HANDSHAKE_TIMEOUT = 15.0
ACK_TIMEOUT = 8.0
COMMAND_INTERVAL = 0.1
HANDSHAKE_INTERVAL = 2.0  # never send userOnline faster than this
BACKOFF_BASE = 5.0
BACKOFF_MAX = 300.0
QUICK_RETRY = (0.5, 1.5)
QUICK_RETRY_EVERY = 60.0  # at most one quick retry per minute, so a flapping server backs off
MAX_DETECTION = 30.0
MIN_PROBE_INTERVAL = 0.5
MIN_PONG_TIMEOUT = 2.0  # below this a busy event loop would see dead sockets that are not
MIN_HB_INTERVAL = 1.0
MAX_HB_INTERVAL = 900.0
TOKEN_RETRY = 60.0  # a failed proactive refresh is tried again after this long


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
    internal_errors: int = 0
    """Frames the handler failed on unexpectedly (dropped; a bug if ever non-zero)."""
    refused_handshakes: int = 0
    dead_sockets: int = 0
    """Sockets the liveness watchdog found dead (half open, or the server stopped answering)."""
    hb_interval: float | None = None
    connected_since: float | None = None
    last_error: str | None = None


class _ConnectionDeadError(CoolkitConnectionError):
    """The pong watchdog fired: the socket is dead or half open."""


class _HandshakeRefusedError(Exception):
    """`userOnline` answered 401, 402 or 406: the access token was refused."""

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


type EventCallback = Callable[[DeviceEvent], None]
type StateCallback = Callable[[ConnectionState], None]


def ping_interval(hb_interval: float) -> float:
    """Return how often to send `ping`: `hbInterval - 7` s (safe under both readings, §12.3).

    Short intervals (test servers) ping at half the interval instead.
    """
    if hb_interval >= 20:
        return hb_interval - 7
    return max(hb_interval / 2, 0.1)


def liveness_timing(hb_interval: float) -> tuple[float, float]:
    """Return (probe interval, pong timeout) for a server's hbInterval.

    A socket that goes silent right after answering a probe is found dead one probe interval
    plus one pong timeout later: min(hbInterval / 4, 30 s). Tiny test intervals are floored.
    """
    deadline = min(hb_interval / 4, MAX_DETECTION)
    probe = max(deadline / 2, MIN_PROBE_INTERVAL)
    return probe, max(deadline - probe, MIN_PONG_TIMEOUT)


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
        takeover_backoff_base: float | None = None,
        handshake_timeout: float = HANDSHAKE_TIMEOUT,
        rng: random.Random | None = None,
    ) -> None:
        """Create the connection; call `run()` in a task to start it.

        `takeover_backoff_base` (default 60 s) sets the client's takeover hold.
        """
        self._client = client
        self._on_event = on_event
        self._on_state = on_state
        self._ack_timeout = ack_timeout
        self._command_interval = command_interval
        self._handshake_interval = handshake_interval
        self._handshake_timeout = handshake_timeout
        self._backoff_base = backoff_base
        self._backoff_max = backoff_max
        if takeover_backoff_base is not None:
            client.takeover_hold_base = takeover_backoff_base
        self._last_quick_retry: float | None = None
        self._rng = rng or random.Random()
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._queue: asyncio.Queue[tuple[str, asyncio.Future[None]]] = asyncio.Queue()
        self._pending: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._alive = asyncio.Event()
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
        client = self._client
        failures = 0
        try:
            while True:
                if (hold := client.session_hold) > 0:
                    # Another client has the session; take it back only after the hold.
                    self._set_state(ConnectionState.TAKEN_OVER)
                    await asyncio.sleep(hold)
                delay: float
                self._set_state(ConnectionState.CONNECTING)
                try:
                    lived = await self._connect_and_serve()
                except SessionTakenOverError as err:
                    self._set_state(ConnectionState.TAKEN_OVER)
                    delay = await self._after_takeover(err)
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

    async def _after_takeover(self, err: SessionTakenOverError) -> float:
        """Apply the client's takeover rule; return how long to wait before reconnecting."""
        client = self._client
        if (hold := client.session_hold) > 0:
            return hold  # already on hold (set by a REST call or an earlier takeover)
        self.stats.takeovers += 1
        self.stats.last_error = str(err)
        try:
            await client.recover_session()
        except SessionTakenOverError as again:
            return max(again.retry_after, client.session_hold, 1.0)
        return self._rng.uniform(*QUICK_RETRY)

    def _jitter(self, base: float, attempt: int, cap: float | None = None) -> float:
        """Exponential backoff with full jitter, never below one second."""
        ceiling = min(cap or self._backoff_max, base * 2 ** max(attempt - 1, 0))
        return max(1.0, self._rng.uniform(0, ceiling))

    async def _connect_and_serve(self) -> float:
        """Connect, serve until the socket ends; return how long it was connected."""
        client = self._client
        await client.ensure_fresh_tokens()
        dispatch = await client.dispatch()
        ws, hb_interval = await self._open(dispatch.url)
        started = time.monotonic()
        try:
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

    async def _open(self, url: str) -> tuple[aiohttp.ClientWebSocketResponse, float]:
        """Open the socket and log in; a refused handshake is renewed and retried once."""
        client = self._client
        for attempt in range(2):
            await self._client.rate_limiter.acquire("ws:userOnline", self._handshake_interval)
            await client.ensure_fresh_tokens()  # never hand an old at to userOnline
            ws = await client.session.ws_connect(
                url,
                autoping=False,
                heartbeat=None,
                timeout=aiohttp.ClientWSTimeout(ws_close=5.0),
            )
            try:
                return ws, await self._handshake(ws)
            except _HandshakeRefusedError as refused:
                await _close_quietly(ws)
                self.stats.refused_handshakes += 1
                if attempt:
                    raise SessionTakenOverError(
                        f"userOnline refused ({refused.code}) with renewed tokens"
                    ) from None
                _LOGGER.debug("userOnline refused (%d); refreshing the tokens", refused.code)
                await client.refresh()
            except BaseException:
                await _close_quietly(ws)
                raise
        raise AssertionError("unreachable")  # pragma: no cover

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
        try:
            async with asyncio.timeout(self._handshake_timeout):
                reply = await self._handshake_reply(ws)
        except TimeoutError:
            raise CoolkitTimeoutError("no answer to userOnline") from None
        error = reply.get("error")
        if type(error) is not int:
            raise CoolkitConnectionError("handshake answer without an error code")
        if error in (401, 402, 406):
            raise _HandshakeRefusedError(error)
        if error != 0:
            raise CoolkitApiError(error, "userOnline refused")
        config = reply.get("config")
        hb = config.get("hbInterval") if isinstance(config, Mapping) else None
        if type(hb) not in (int, float) or not isinstance(hb, int | float) or not hb > 0:
            return DEFAULT_HB_INTERVAL
        return float(min(max(hb, MIN_HB_INTERVAL), MAX_HB_INTERVAL))

    async def _handshake_reply(self, ws: aiohttp.ClientWebSocketResponse) -> dict[str, Any]:
        """Return the answer to `userOnline`: the first JSON object without an `action`."""
        while True:
            msg = await ws.receive()
            if msg.type is aiohttp.WSMsgType.PING:
                await ws.pong(msg.data)
                continue
            if msg.type is aiohttp.WSMsgType.PONG:
                continue
            if msg.type is not aiohttp.WSMsgType.TEXT:
                raise CoolkitConnectionError(f"handshake ended by {msg.type.name}")
            if msg.data == "pong":
                continue
            try:
                reply = json.loads(msg.data)
            except (ValueError, RecursionError) as err:
                raise CoolkitConnectionError("handshake answer is not JSON") from err
            if not isinstance(reply, dict):
                raise CoolkitConnectionError("handshake answer is not an object")
            if "action" not in reply:
                return reply
            self.stats.ignored += 1  # a push before the answer

    async def _serve(self, ws: aiohttp.ClientWebSocketResponse, hb_interval: float) -> None:
        tasks = {
            asyncio.create_task(self._read(ws), name="coolkit-ws-read"),
            asyncio.create_task(self._heartbeat(ws, hb_interval), name="coolkit-ws-heartbeat"),
            asyncio.create_task(self._send_queued(ws), name="coolkit-ws-send"),
            asyncio.create_task(self._keep_tokens(), name="coolkit-ws-tokens"),
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
        alive = self._alive
        async for msg in ws:
            alive.set()
            kind = msg.type
            if kind is aiohttp.WSMsgType.TEXT:
                self._handle_text(msg.data)
                if self._revoked:
                    return  # kicked (406): the session belongs to another client now
            elif kind is aiohttp.WSMsgType.PING:
                await ws.pong(msg.data)
            elif kind is aiohttp.WSMsgType.PONG:
                pass
            elif kind is aiohttp.WSMsgType.ERROR:
                raise CoolkitConnectionError("websocket error")
            else:
                self.stats.ignored += 1

    async def _heartbeat(self, ws: aiohttp.ClientWebSocketResponse, hb_interval: float) -> None:
        """Probe the socket; any frame must come back within the pong timeout."""
        probe_every, pong_timeout = liveness_timing(hb_interval)
        text_every = ping_interval(hb_interval)
        last_text = time.monotonic()  # the handshake counts for the server's idle timer
        while True:
            await asyncio.sleep(probe_every)
            self._alive.clear()
            now = time.monotonic()
            if now + probe_every - last_text > text_every:
                await ws.send_str("ping")
                last_text = now
            else:
                await ws.ping()
            self.stats.frames_sent += 1
            try:
                async with asyncio.timeout(pong_timeout):
                    await self._alive.wait()
            except TimeoutError:
                self.stats.dead_sockets += 1
                _LOGGER.info(
                    "Nothing received within %.0f s of a ping; the long connection is dead",
                    pong_timeout,
                )
                raise _ConnectionDeadError("no pong") from None

    async def _keep_tokens(self) -> None:
        """Refresh the tokens before they expire while the socket is up (it needs none)."""
        client = self._client
        while True:
            await asyncio.sleep(max(client.refresh_delay(), 1.0))
            try:
                await client.ensure_fresh_tokens()
            except ReauthRequiredError:
                raise
            except CoolkitError as err:
                _LOGGER.debug("Proactive token refresh failed (%s); trying again later", err)
                await asyncio.sleep(TOKEN_RETRY)

    async def _send_queued(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        last = 0.0
        while True:
            frame, sent = await self._queue.get()
            wait = last + self._command_interval - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            await ws.send_str(frame)
            if not sent.done():
                sent.set_result(None)
            last = time.monotonic()
            self.stats.frames_sent += 1

    # -- incoming frames (hot path) ------------------------------------------------------

    def _handle_text(self, text: str) -> None:
        """Handle one text frame; invalid frames are dropped, nothing raises out of here."""
        self.stats.frames_received += 1
        if text == "pong":
            return
        try:
            self._handle_frame(text)
        except Exception:  # last resort: drop the frame, keep the connection
            self.stats.internal_errors += 1
            _LOGGER.debug("Dropping a frame the handler failed on", exc_info=True)

    def _handle_frame(self, text: str) -> None:
        try:
            data = json.loads(text)
        except ValueError, RecursionError:
            self.stats.malformed += 1
            _LOGGER.debug("Skipping a frame that is not JSON (%d characters)", len(text))
            return
        if not isinstance(data, dict):
            self.stats.malformed += 1
            _LOGGER.debug("Skipping a frame that is not a JSON object")
            return
        action = data.get("action")
        if action is None:
            self._handle_reply(data)
            return
        deviceid = data.get("deviceid")
        if action == "update":
            params = sanitize_params(data.get("params"))
            if not is_valid_id(deviceid) or params is None:
                self.stats.malformed += 1
                _LOGGER.debug("Skipping a malformed update frame")
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
            if not is_valid_id(deviceid) or not isinstance(online, bool):
                self.stats.ignored += 1
                _LOGGER.debug("Ignoring a sysmsg without an online flag")
                return
            self.stats.sysmsgs += 1
            self._emit(DeviceOnline(deviceid, online))
        else:
            self.stats.ignored += 1
            _LOGGER.debug("Ignoring a frame with another action")

    def _handle_reply(self, data: dict[str, Any]) -> None:
        sequence = data.get("sequence")
        if type(sequence) in (str, int):
            future = self._pending.get(str(sequence))
            if future is not None:
                if not future.done():
                    future.set_result(data)
                return
        if data.get("error") == 406 and type(data.get("error")) is int:
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
        state = sanitize_params(reply.get("params"))
        if state is None:
            state = sanitize_params(reply.get("config"))
        return dict(state or {})

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
        loop = asyncio.get_running_loop()
        future: asyncio.Future[dict[str, Any]] = loop.create_future()
        sent: asyncio.Future[None] = loop.create_future()
        self._pending[sequence] = future
        self._queue.put_nowait((json.dumps(frame, separators=(",", ":")), sent))
        try:
            # The ack timeout starts when the frame leaves, not while it waits for its turn
            # (frames are paced 100 ms apart); a drop fails `future` meanwhile.
            await asyncio.wait((sent, future), return_when=asyncio.FIRST_COMPLETED)
            async with asyncio.timeout(self._ack_timeout):
                reply = await future
        except TimeoutError:
            raise AckTimeoutError(504, f"no answer within {self._ack_timeout:.0f} s") from None
        finally:
            self._pending.pop(sequence, None)
            if not sent.done():
                sent.cancel()
        error = reply.get("error")
        if error == 0 and type(error) is int:
            return reply
        code = error if type(error) is int else -1
        if code in (503, 4002):
            raise DeviceOfflineError(code, "device offline")
        if code == 504:
            raise DeviceTimeoutError(code, "device did not answer")
        if code == 406:
            raise CommandRejectedError(code, "not permitted")
        raise CoolkitApiError(code, f"{action} failed")


async def _close_quietly(ws: aiohttp.ClientWebSocketResponse) -> None:
    if not ws.closed:
        with contextlib.suppress(Exception):
            await ws.close()
