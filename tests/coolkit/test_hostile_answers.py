"""The client against a broken cloud (issue #9 finding 5): odd shapes become typed errors.

Each answer is served over a real socket by `FakeCloud`; the client must end every call with a
result or a `CoolkitError`, never store a malformed token, and keep working afterwards.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
import contextlib
import json
from typing import Any

import aiohttp
import pytest

from custom_components.ewelink.coolkit import (
    CoolkitClient,
    CoolkitConnectionError,
    CoolkitError,
    RateLimiter,
    RegionError,
    Servers,
    Tokens,
)

from .fake_cloud import FakeCloud, envelope

USER = {"apikey": "0c1d2e3f-aaaa-bbbb-cccc-1234567890ab", "email": "a@example.com"}
GOOD_LOGIN = {"user": USER, "at": "a" * 40, "rt": "r" * 40, "region": "eu"}
GOOD_THING = {
    "itemType": 1,
    "index": 1,
    "itemData": {"deviceid": "1000000001", "apikey": USER["apikey"], "name": "Lamp",
                 "extra": {"uiid": 1}, "params": {"switch": "on"}, "online": True},
}  # fmt: skip
BAD_TOKENS: list[Any] = [None, 0, 1.5, True, {}, [], "", "a b", "a\ud800", "a\x07", "a\r\nX: y"]


@pytest.fixture
async def fake(socket_enabled: None) -> AsyncIterator[FakeCloud]:
    """A hostile cloud on 127.0.0.1."""
    async with FakeCloud() as cloud:
        yield cloud


@pytest.fixture
async def client(fake: FakeCloud) -> AsyncIterator[CoolkitClient]:
    """A client of the fake cloud, signed in (tokens given), without pacing."""
    async with aiohttp.ClientSession() as http:
        yield CoolkitClient(
            http,
            "appid",
            "secret",
            servers=Servers(fake.base_url),
            region="eu",
            tokens=Tokens.issued_now("a" * 40, "r" * 40),
            user_apikey=USER["apikey"],
            rate_limiter=RateLimiter(min_interval=0, max_calls=10**9),
        )


@pytest.mark.parametrize("token", BAD_TOKENS)
async def test_login_with_malformed_tokens(
    fake: FakeCloud, client: CoolkitClient, token: Any
) -> None:
    """null, number, object, empty, surrogate or control-character tokens are never stored."""
    saved: list[Tokens] = []
    client.tokens, client.on_tokens = None, saved.append
    for answer in ({**GOOD_LOGIN, "at": token}, {**GOOD_LOGIN, "rt": token}):
        fake.answer("/v2/user/login", envelope(answer))
        with pytest.raises(CoolkitConnectionError, match="unexpected login"):
            await client.login("a@example.com", "pw", "+49")
    assert client.tokens is None
    assert saved == []


@pytest.mark.parametrize(
    "data",
    [{**GOOD_LOGIN, "user": "user"}, {**GOOD_LOGIN, "user": ["x"]}, {**GOOD_LOGIN, "user": None},
     {"at": "a", "rt": "r"}, {**GOOD_LOGIN, "user": {"apikey": {"k": 1}}}],
)  # fmt: skip
async def test_login_with_odd_shapes(
    fake: FakeCloud, client: CoolkitClient, data: dict[str, Any]
) -> None:
    """A `user` of the wrong type is a malformed answer, not an AttributeError."""
    fake.answer("/v2/user/login", envelope(data))
    with pytest.raises(CoolkitConnectionError):
        await client.login("a@example.com", "pw", "+49")


async def test_login_region_values(fake: FakeCloud, client: CoolkitClient) -> None:
    """An unknown region string is a RegionError; a non-string region is ignored."""
    client.region = None
    fake.answer("/v2/user/login", envelope({**GOOD_LOGIN, "region": "mars" * 100}))
    with pytest.raises(RegionError) as err:
        await client.login("a@example.com", "pw", "+49")
    assert len(str(err.value)) < 100
    fake.answer("/v2/user/login", envelope({**GOOD_LOGIN, "region": {"r": "eu"}}))
    result = await client.login("a@example.com", "pw", "+49")
    assert result.region == "eu"


@pytest.mark.parametrize("token", BAD_TOKENS)
async def test_refresh_and_oauth_with_malformed_tokens(
    fake: FakeCloud, client: CoolkitClient, token: Any
) -> None:
    """A refresh or code exchange answering a malformed token leaves the tokens as they were."""
    before = client.tokens
    fake.answer("/v2/user/refresh", envelope({"at": token, "rt": "r" * 40}))
    with pytest.raises(CoolkitConnectionError, match="unexpected refresh"):
        await client.refresh()
    fake.answer("/v2/user/oauth/token", envelope({"accessToken": "a" * 40, "refreshToken": token}))
    with pytest.raises(CoolkitConnectionError, match="unexpected token"):
        await client.exchange_code("code", "https://example.com/cb", "eu")
    assert client.tokens is before
    assert not client.reauth_required


@pytest.mark.parametrize(
    "body",
    [
        b"\xff\xfe not utf-8",
        b"[" * 100_000 + b"]" * 100_000,
        b'{"error": true, "data": {}}',
        b'{"error": "0", "data": {}}',
        b"NaN",
        b"",
        b"<html>502</html>",
        json.dumps(envelope({"user": {"apikey": "k" * 10_000}})).encode(),
    ],
)
async def test_unreadable_answers(fake: FakeCloud, client: CoolkitClient, body: bytes) -> None:
    """Invalid UTF-8, deep nesting, non-envelopes: `CoolkitConnectionError`."""
    fake.answer("/v2/user/profile", body)
    with pytest.raises(CoolkitConnectionError):
        await client.get_profile()


async def test_home_list_shapes(fake: FakeCloud, client: CoolkitClient) -> None:
    """A home list that is not a list is an error; bad homes are skipped, good ones kept."""
    for odd in ("homes", 5, {"id": "f1"}):
        fake.ok("/v2/family", {"familyList": odd})
        with pytest.raises(CoolkitConnectionError, match="malformed"):
            await client.get_families()
    fake.ok("/v2/family", {"familyList": ["x", {"id": None}, {"id": "f1", "name": "Home"}]})
    assert [f.id for f in await client.get_families()] == ["f1"]
    fake.ok("/v2/family", {"familyList": ["x", 5]})
    with pytest.raises(CoolkitConnectionError, match="every home"):
        await client.get_families()
    fake.ok("/v2/family", {})
    assert await client.get_families() == []


async def test_thing_list_items_that_used_to_raise(fake: FakeCloud, client: CoolkitClient) -> None:
    """Items that raised TypeError/ValueError before are skipped; the rest is kept."""
    bad: list[Any] = [
        {"itemType": 1, "itemData": {**GOOD_THING["itemData"], "deviceid": "1000000002",
                                     "extra": {"uiid": "9" * 5000}}},
        {"itemType": 1, "itemData": {**GOOD_THING["itemData"], "deviceid": {"id": 1}}},
        {"itemType": 1, "index": "x", "itemData": "data"},
        "thing",
        None,
        {"itemType": 3, "itemData": {"id": "group"}},
    ]  # fmt: skip
    fake.ok("/v2/device/thing", {"thingList": [*bad, GOOD_THING], "total": 7})
    things = await client.get_things(["f1"])
    assert sorted(t.deviceid for t in things) == ["1000000001", "1000000002"]
    assert next(t for t in things if t.deviceid == "1000000002").uiid is None
    fake.ok("/v2/device/thing", {"thingList": "things"})
    with pytest.raises(CoolkitConnectionError, match="malformed"):
        await client.get_things(["f1"])


async def test_dispatch_shapes(fake: FakeCloud, client: CoolkitClient) -> None:
    """Dispatch answers without a usable host or port are errors, not broken URLs."""
    for odd in (
        {"error": 0, "domain": "bad host/x", "port": 8080},
        {"error": 0, "domain": "h", "port": True},
        {"error": 0, "domain": "h", "port": 70000},
        {"error": False, "domain": "h", "port": 8080},
        ["x"],
    ):
        fake.answer("/dispatch/app", odd)
        with pytest.raises(CoolkitConnectionError):
            await client.dispatch()
    fake.answer("/dispatch/app", {"error": 0, "domain": "127.0.0.1", "port": 8080})
    assert (await client.dispatch()).url == "ws://127.0.0.1:8080/api/ws"


async def test_still_works_after_garbage(fake: FakeCloud, client: CoolkitClient) -> None:
    """After a run of broken answers, valid ones parse and the tokens are intact."""
    for body in (b"{", b"\x80", b"[]", b'{"error":0,"data":[]}'):
        fake.answer("/v2/device/thing", body)
        with contextlib.suppress(CoolkitError):
            await client.get_things(["f1"])
    fake.ok("/v2/device/thing", {"thingList": [GOOD_THING], "total": 1})
    assert [t.deviceid for t in await client.get_things(["f1"])] == ["1000000001"]
    fake.ok("/v2/user/profile", {"user": USER, "region": "eu"})
    assert (await client.get_profile()).apikey == USER["apikey"]
