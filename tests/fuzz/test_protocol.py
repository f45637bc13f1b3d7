"""Fuzz targets of the protocol package (see the package docstring).

Each test runs its share of the inputs, asserts that nothing escaped (no exception other than a
typed `CoolkitError`, no broken invariant) and that the code still works afterwards.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
import contextlib
import json
import math
import random
from typing import Any

import aiohttp
from aiohttp import web
import pytest

from custom_components.ewelink.coolkit import (
    ConnectionState,
    CoolkitClient,
    CoolkitError,
    DeviceEvent,
    DeviceUpdate,
    Dispatch,
    Family,
    LongConnection,
    RateLimiter,
    SanitizedParams,
    Servers,
    Thing,
    Tokens,
    UserInfo,
    merge_params,
    sanitize_params,
)
from custom_components.ewelink.coolkit.models import (
    CHANNEL_ARRAYS,
    MAX_DEPTH,
    MAX_OUTLETS,
    is_valid_id,
    valid_token,
)
from tests.coolkit.fake_cloud import Answer, FakeCloud

from .hostile import (
    ANSWERS,
    APIKEY,
    DEVICEIDS,
    DISPATCH,
    SEQUENCES,
    THING,
    UIIDS,
    USER,
    Hostile,
    device_params,
    envelope,
    frame,
    hostile_update,
    rest_answer,
    update_frame,
)
from .runner import InvariantError, new_run, strict_json

pytestmark = pytest.mark.usefixtures("fast_loop")

# -- invariants -----------------------------------------------------------------------------


def depth_of(value: Any) -> int:
    """Return the nesting depth of containers (bounded inputs only)."""
    if isinstance(value, dict):
        return 1 + max((depth_of(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((depth_of(v) for v in value), default=0)
    return 0


def check_params(params: Any, *, merged: bool = False) -> None:
    """A params object as the rest of the integration may rely on it (a merged state also
    keeps its channel arrays sorted by unique outlet; a push carries them as sent)."""
    if not isinstance(params, dict):
        raise InvariantError("params is not a dict")
    if not all(isinstance(k, str) for k in params):
        raise InvariantError("a key is not a string")
    strict_json(params)
    if depth_of(params) > MAX_DEPTH + 1:
        raise InvariantError("params nest too deeply")
    for key in CHANNEL_ARRAYS & params.keys():
        items = params[key]
        if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
            raise InvariantError(f"{key} is not a list of objects")
        outlets = [i.get("outlet") for i in items]
        if not all(type(o) is int and 0 <= o < MAX_OUTLETS for o in outlets):
            raise InvariantError(f"{key} holds an invalid outlet")
        if merged and outlets != sorted(set(outlets)):
            raise InvariantError(f"{key} is not sorted by unique outlet")


def check_text(value: Any) -> None:
    if value is not None and (not isinstance(value, str) or not value.isprintable()):
        raise InvariantError("text field is not printable text")
    strict_json(value)


def check_thing(thing: Thing) -> None:
    if not (is_valid_id(thing.deviceid) and is_valid_id(thing.owner_apikey)):
        raise InvariantError("thing with an invalid id")
    check_params(thing.params, merged=True)
    check_params(thing.tags)
    for text in (thing.name, thing.brand, thing.model, thing.firmware_model, thing.mac):
        check_text(text)
    if thing.uiid is not None and type(thing.uiid) is not int:
        raise InvariantError("uiid is not an int")
    if type(thing.index) is not int or type(thing.online) is not bool:
        raise InvariantError("index/online of the wrong type")


def check_family(family: Family) -> None:
    if not is_valid_id(family.id) or not all(is_valid_id(r) for r in family.rooms):
        raise InvariantError("family with an invalid id")
    check_text(family.name)
    for name in family.rooms.values():
        check_text(name)


def check_tokens(tokens: Tokens | None) -> None:
    if tokens is None:
        return
    valid_token(tokens.access_token)
    valid_token(tokens.refresh_token)
    for when in (tokens.access_expires_at, tokens.refresh_expires_at, tokens.issued_at):
        if not math.isfinite(when):
            raise InvariantError("token time is not finite")
    strict_json(tokens.as_dict())


def check_event(event: DeviceEvent) -> None:
    if not is_valid_id(event.deviceid):
        raise InvariantError("event for an invalid deviceid")
    if isinstance(event, DeviceUpdate):
        if not event.params:
            raise InvariantError("empty update delivered")
        check_params(event.params)
    elif type(event.online) is not bool:
        raise InvariantError("online flag is not a bool")


# -- websocket frames, straight into the handler ----------------------------------------------


def check_handled(connection: LongConnection, guard_before: int, events: list[DeviceEvent]) -> None:
    """After one frame: the last-resort guard did not fire, events and replies are valid."""
    if connection.stats.internal_errors != guard_before:
        raise InvariantError("the frame handler's last-resort guard fired")
    for event in events:
        check_event(event)
    for future in connection._pending.values():
        if future.done() and not isinstance(future.result(), dict):
            raise InvariantError("a reply resolved a command with a non-object")


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    """An HTTP session for the clients."""
    async with aiohttp.ClientSession() as session:
        yield session


async def test_frames_into_the_handler(http: aiohttp.ClientSession) -> None:
    """Hostile frames through `LongConnection._handle_text` (the read loop's handler), with
    commands waiting for replies: nothing raises, every delivered event is valid, and a
    valid push afterwards is delivered as before."""
    run = new_run("ws_frames", 0.40)
    client = CoolkitClient(http, "app", "secret", region="eu")
    events: list[DeviceEvent] = []
    connection = LongConnection(client, events.append)
    loop = asyncio.get_running_loop()
    pending = connection._pending
    for index in range(run.budget):
        h = Hostile(run.rng(index))
        for sequence in SEQUENCES:
            if sequence not in pending or pending[sequence].done():
                pending[sequence] = loop.create_future()
        events.clear()
        before = connection.stats.internal_errors
        try:
            connection._handle_text(frame(h))
            check_handled(connection, before, events)
        except Exception as err:  # noqa: BLE001 - the fuzz records every escape
            run.fail(index, err)
        else:
            run.ok("event" if events else "dropped")
        connection._revoked = False
    events.clear()
    params = {"switches": [{"outlet": 0, "switch": "on"}]}
    connection._handle_text(json.dumps(update_frame("1000000001", params)))
    run.finish()
    assert not run.unhandled, run.verdict()
    assert events == [DeviceUpdate("1000000001", params, True)]


# -- device params per UIID -------------------------------------------------------------------


def check_merge(state: dict[str, Any], update: Any, clean: Any, index: int) -> None:
    """Merge a hostile update; the state stays valid; every 25th input, a valid one lands."""
    if clean is not None:
        if not isinstance(clean, SanitizedParams):
            raise InvariantError("sanitize_params returned another type")
        check_params(clean)
    merge_params(state, update)
    check_params(state, merged=True)
    if index % 25 == 0:
        merge_params(state, {"fuzzProbe": index, "switches": [{"outlet": 0, "x": index}]})
        first = state["switches"][0]
        if state["fuzzProbe"] != index or (first["outlet"], first["x"]) != (0, index):
            raise InvariantError("a valid update did not land")


async def test_params_per_uiid() -> None:
    """Hostile updates of every UIID's params merged into a state kept across inputs: the state
    stays valid (never poisoned) and a valid update still lands."""
    run = new_run("params", 0.25)
    states: dict[int, dict[str, Any]] = {}
    for index in range(run.budget):
        h = Hostile(run.rng(index))
        uiid = h.rng.choice(UIIDS)
        defaults = device_params(uiid, random.Random(uiid))
        state = states.setdefault(uiid, {})
        if not state:
            merge_params(state, defaults)
        try:
            update = hostile_update(h, defaults)
            clean = sanitize_params(update)
            check_merge(state, update, clean, index)
        except Exception as err:  # noqa: BLE001
            run.fail(index, err)
        else:
            run.ok("merged" if clean else "refused")
    run.finish()
    assert not run.unhandled, run.verdict()


# -- model parsers ----------------------------------------------------------------------------


async def test_model_parsers() -> None:
    """Things, homes, users and tokens parsed from mutated answers: a valid model, None, or
    ValueError (users, tokens) and nothing else."""
    run = new_run("models", 0.13)
    family_item = ANSWERS["families"][1]["familyList"][0]
    for index in range(run.budget):
        h = Hostile(run.rng(index))
        kind = h.rng.choice(("thing", "thing", "family", "user", "tokens"))
        try:
            if kind == "thing":
                thing = Thing.from_api(h.mutate(THING))
                if thing is not None:
                    check_thing(thing)
                run.ok("thing" if thing else "skipped")
            elif kind == "family":
                family = Family.from_api(h.mutate(family_item))
                if family is not None:
                    check_family(family)
                run.ok("family" if family else "skipped")
            elif kind == "user":
                try:
                    user = UserInfo.from_api(h.mutate(USER))
                except ValueError as err:
                    run.handled(err)
                else:
                    for text in (user.email, user.phone, user.nickname, user.country_code):
                        check_text(text)
                    run.ok("user")
            else:
                data = h.mutate(ANSWERS["oauth"][1])
                try:
                    tokens = Tokens.from_cloud(
                        data.get("accessToken") if isinstance(data, dict) else data,
                        data.get("refreshToken") if isinstance(data, dict) else None,
                        access_expires_ms=data.get("atExpiredTime") if isinstance(data, dict) else None,
                    )  # fmt: skip
                except ValueError as err:
                    run.handled(err)
                else:
                    check_tokens(tokens)
                    run.ok("tokens")
        except Exception as err:  # noqa: BLE001
            run.fail(index, err)
    run.finish()
    assert not run.unhandled, run.verdict()


# -- REST answers through the real client -----------------------------------------------------

AUTH_OPERATIONS = ("login", "refresh", "oauth", "profile", "region", "logout")
DATA_OPERATIONS = ("families", "things", "by_ids", "status_get", "status_set", "add", "dispatch")
VALID_REFRESH = Answer(envelope(ANSWERS["refresh"][1]))


def make_client(http: aiohttp.ClientSession, fake: FakeCloud) -> CoolkitClient:
    """A signed-in client of the fake cloud, unpaced; takeover holds end at once."""
    client = CoolkitClient(
        http,
        "app",
        "secret",
        servers=Servers(fake.base_url),
        region="eu",
        tokens=Tokens.issued_now("a" * 40, "r" * 40),
        user_apikey=APIKEY,
        rate_limiter=RateLimiter(min_interval=0, max_calls=10**9),
        request_timeout=5,
    )
    client.takeover_hold_base = 0
    return client


async def call(client: CoolkitClient, operation: str) -> Any:
    """Run one client operation; check what it returned."""
    match operation:
        case "login":
            result = await client.login("a@example.com", "pw", "+49")
            check_tokens(result.tokens)
            check_text(result.user.email)
        case "refresh":
            check_tokens(await client.refresh())
        case "oauth":
            check_tokens(await client.exchange_code("code", "https://example.com/cb", "eu"))
        case "profile":
            user = await client.get_account()
            if not is_valid_id(user.apikey):
                raise InvariantError("user apikey invalid")
        case "region":
            if await client.get_region("+49") not in ("cn", "as", "us", "eu"):
                raise InvariantError("unknown region returned")
        case "logout":
            await client.logout()
        case "families":
            for family in await client.get_families():
                check_family(family)
        case "things":
            for thing in await client.get_things(["f1"]):
                check_thing(thing)
        case "by_ids":
            for thing in await client.get_things_by_ids(DEVICEIDS, shared={"1000000002"}):
                check_thing(thing)
        case "status_get":
            check_params(await client.get_thing_status("1000000001", ["switch"]))
        case "status_set":
            await client.set_thing_status("1000000001", {"switch": "on"})
        case "add":
            check_thing(await client.add_wifi_device("1000000001", "key", "Plug"))
        case "dispatch":
            dispatch = await client.dispatch()
            if not isinstance(dispatch, Dispatch) or not 0 < dispatch.port < 65536:
                raise InvariantError("dispatch result invalid")
    check_tokens(client.tokens)
    return operation


async def test_rest_answers(http: aiohttp.ClientSession) -> None:
    """Hostile answers (status, bytes, envelopes, shapes) served over a real socket to every
    client operation: a checked result or a `CoolkitError`. Data operations share one client,
    which must still read valid answers correctly at the end."""
    run = new_run("rest_answers", 0.15)
    async with FakeCloud() as fake:
        shared = make_client(http, fake)
        for index in range(run.budget):
            h = Hostile(run.rng(index))
            operation = h.rng.choice(AUTH_OPERATIONS + DATA_OPERATIONS)
            status, body = rest_answer(h, operation)
            path = ANSWERS[operation][0]
            fake.answers = {path: Answer(body, status), "/v2/user/refresh": VALID_REFRESH}
            if operation == "refresh":
                fake.answers[path] = Answer(body, status)
            if operation == "profile":  # get_account falls back on the homes
                fake.answers["/v2/family"] = Answer(*reversed(rest_answer(h, "families")))
            client = shared if operation in DATA_OPERATIONS else make_client(http, fake)
            try:
                async with asyncio.timeout(30):
                    await call(client, operation)
            except CoolkitError as err:
                run.handled(err)
            except Exception as err:  # noqa: BLE001
                run.fail(index, err)
            else:
                run.ok(operation)
        # The shared client still reads valid answers correctly.
        fake.answers = {
            path: Answer(DISPATCH if op == "dispatch" else envelope(data))
            for op, (path, data) in ANSWERS.items()
            if op != "by_ids"
        }
        families = await shared.get_families()
        things = await shared.get_things([families[0].id])
        dispatch = await shared.dispatch()
    run.finish()
    assert not run.unhandled, run.verdict()
    assert [f.id for f in families] == ["f1"]
    assert [t.deviceid for t in things] == ["1000000001"]
    assert things[0].params["switches"] == [{"outlet": 0, "switch": "on"}]
    assert dispatch.port == 8080


# -- over a real websocket --------------------------------------------------------------------


class FuzzSocketCloud:
    """Dispatch, refresh and `/api/ws`: the handshake answer and the frames are the test's."""

    def __init__(self) -> None:
        self.runner: web.AppRunner | None = None
        self.port = 0
        self.handshake: Callable[[], Awaitable[str | None]] | None = None
        self.socket: web.WebSocketResponse | None = None
        self.commands: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/api/ws", self._ws)
        app.router.add_route("*", "/{region}/dispatch/app", self._dispatch)
        app.router.add_route("*", "/{region}/v2/user/refresh", self._refresh)
        self.runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        self.port = self.runner.addresses[0][1]

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()

    async def _dispatch(self, _request: web.Request) -> web.Response:
        return web.json_response({**DISPATCH, "port": self.port})

    async def _refresh(self, _request: web.Request) -> web.Response:
        return web.json_response(envelope(ANSWERS["refresh"][1]))

    async def _ws(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True, max_msg_size=1 << 22)
        await ws.prepare(request)
        await ws.receive()  # userOnline
        reply = (
            await self.handshake()
            if self.handshake
            else '{"error":0,"config":{"hb":1,"hbInterval":145}}'
        )
        if reply is None:
            await ws.close()
            return ws
        await ws.send_str(reply)
        self.socket = ws
        async for msg in ws:
            if msg.type is aiohttp.WSMsgType.TEXT and msg.data != "ping":
                with contextlib.suppress(ValueError):
                    self.commands.put_nowait(json.loads(msg.data))
            elif msg.type is aiohttp.WSMsgType.TEXT:
                await ws.send_str("pong")
        return ws


@pytest.fixture
async def socket_cloud() -> AsyncIterator[FuzzSocketCloud]:
    """A running `FuzzSocketCloud`."""
    cloud = FuzzSocketCloud()
    await cloud.start()
    yield cloud
    await cloud.stop()


def travels(text: str) -> str:
    """Return `text` as a websocket text frame can carry it (UTF-8: lone surrogates escaped,
    which JSON turns back into lone surrogates on the other side)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text


def socket_client(http: aiohttp.ClientSession, cloud: FuzzSocketCloud) -> CoolkitClient:
    client = CoolkitClient(
        http,
        "app",
        "secret",
        servers=Servers(f"http://127.0.0.1:{cloud.port}"),
        region="eu",
        tokens=Tokens.issued_now("a" * 40, "r" * 40),
        user_apikey=APIKEY,
        rate_limiter=RateLimiter(min_interval=0, max_calls=10**9),
    )
    client.takeover_hold_base = 0.01
    return client


async def test_frames_over_a_socket(
    http: aiohttp.ClientSession, socket_cloud: FuzzSocketCloud
) -> None:
    """Hostile frames, binary frames and command replies over a real socket into a running
    `LongConnection`: `run()` never dies, commands end in a result or a `CoolkitError`, and a
    valid push at the end still reaches the callback."""
    run = new_run("ws_socket", 0.05)
    events: list[DeviceEvent] = []
    bad_events: list[BaseException] = []

    def on_event(event: DeviceEvent) -> None:
        try:
            check_event(event)
        except InvariantError as err:
            bad_events.append(err)
        events.append(event)

    connection = LongConnection(
        socket_client(http, socket_cloud), on_event, ack_timeout=0.3, handshake_interval=0
    )
    task = asyncio.create_task(connection.run())

    async def connected() -> None:
        async with asyncio.timeout(15):
            while not (connection.connected and socket_cloud.socket is not None):
                if task.done():
                    return
                await asyncio.sleep(0.01)

    async def answer(h: Hostile) -> None:
        command = await socket_cloud.commands.get()
        reply: Any = {"error": 0, "deviceid": command.get("deviceid"), "apikey": APIKEY,
                      "sequence": command.get("sequence"),
                      "params": device_params(h.rng.choice(UIIDS), h.rng)}  # fmt: skip
        if socket_cloud.socket is not None and not socket_cloud.socket.closed:
            await socket_cloud.socket.send_str(travels(h.text(h.mutate(reply))))

    await connected()
    for index in range(run.budget):
        h = Hostile(run.rng(index))
        await connected()
        if task.done():
            break
        ws = socket_cloud.socket
        assert ws is not None
        try:
            if index % 10 == 0:
                command = (
                    connection.query("1000000001", APIKEY)
                    if h.rng.random() < 0.5
                    else connection.send_update("1000000001", {"switch": "on"}, APIKEY)
                )
                try:
                    result, _ = await asyncio.gather(command, answer(h))
                except CoolkitError as err:
                    run.handled(err)
                else:
                    check_params(result) if isinstance(result, SanitizedParams) else None
                    run.ok("command")
                continue
            if h.rng.random() < 0.05:
                await ws.send_bytes(h.body(h.value()))
            else:
                await ws.send_str(travels(frame(h)))
            await asyncio.sleep(0)
            run.ok("frame")
        except ConnectionError, RuntimeError:
            run.ok("socket closed")  # the frame made the client hang up (allowed)
        except Exception as err:  # noqa: BLE001
            run.fail(index, err)
    await connected()
    events.clear()
    assert socket_cloud.socket is not None
    await socket_cloud.socket.send_str(json.dumps(update_frame("1000000003", {"switch": "off"})))
    async with asyncio.timeout(10):
        while DeviceUpdate("1000000003", {"switch": "off"}, True) not in events:
            await asyncio.sleep(0.01)
    alive = not task.done()
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    for err in bad_events:
        run.fail(-1, err)
    if connection.stats.internal_errors:
        run.fail(-1, InvariantError("the frame handler's last-resort guard fired"))
    run.finish()
    assert alive, "run() ended"
    assert not run.unhandled, run.verdict()


async def test_handshake_answers(
    http: aiohttp.ClientSession, socket_cloud: FuzzSocketCloud
) -> None:
    """Hostile `userOnline` answers: the socket opens with a sane hbInterval, or the attempt
    ends in a `CoolkitError` (which `run()` retries); a valid answer still connects."""
    run = new_run("ws_handshake", 0.02)
    client = socket_client(http, socket_cloud)
    connection = LongConnection(
        client, lambda event: None, handshake_interval=0, handshake_timeout=0.5
    )
    url = f"ws://127.0.0.1:{socket_cloud.port}/api/ws"
    valid = {"error": 0, "apikey": APIKEY, "config": {"hb": 1, "hbInterval": 145}, "sequence": "1"}
    for index in range(run.budget):
        h = Hostile(run.rng(index))

        async def reply(h: Hostile = h) -> str | None:
            roll = h.rng.random()
            if roll < 0.05:
                return None
            if roll < 0.15:
                return json.dumps({**valid, "error": h.rng.choice((400, 401, 402, 406, 500))})
            return travels(h.text(h.mutate(valid)))

        socket_cloud.handshake = reply
        try:
            async with asyncio.timeout(30):
                ws, hb = await connection._open(url)
        except CoolkitError as err:
            run.handled(err)
            client._revoked = client._dead = False
        except Exception as err:  # noqa: BLE001
            run.fail(index, err)
        else:
            await ws.close()
            if not 1 <= hb <= 900:
                run.fail(index, InvariantError(f"hbInterval {hb} out of bounds"))
            else:
                run.ok("connected")
    socket_cloud.handshake = None
    ws, hb = await connection._open(url)
    await ws.close()
    run.finish()
    assert not run.unhandled, run.verdict()
    assert hb == 145
    assert connection.state is ConnectionState.DISCONNECTED
