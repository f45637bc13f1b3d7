"""The REST client against the simulator over real sockets."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
import itertools
import time
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest

from custom_components.ewelink.coolkit import (
    AppNotPermittedError,
    CommandRejectedError,
    CoolkitApiError,
    CoolkitClient,
    CoolkitConnectionError,
    CoolkitServerError,
    DeviceOfflineError,
    DeviceTimeoutError,
    InvalidAppCredentialsError,
    InvalidCredentialsError,
    OAuthCodeError,
    RateLimitedError,
    RateLimiter,
    ReauthRequiredError,
    RegionError,
    Servers,
    Tokens,
    sign,
)
from simulator import Simulator
from tests.common import (
    APP_ID,
    APP_SECRET,
    EMAIL,
    HA_REDIRECT,
    OAUTH_APP_ID,
    OAUTH_APP_SECRET,
    PASSWORD,
    Cloud,
    oauth_code,
)


@pytest.fixture
async def session(socket_enabled: None) -> AsyncIterator[aiohttp.ClientSession]:
    """A plain aiohttp session (the client takes an injected one)."""
    async with aiohttp.ClientSession() as http:
        yield http


# One host, one limiter: every client of a test shares it, as the integration's clients do.
_LIMITERS: dict[int, RateLimiter] = {}


def make_client(
    sim: Simulator,
    http: aiohttp.ClientSession,
    app_id: str = APP_ID,
    secret: str = APP_SECRET,
    **kwargs: object,
) -> CoolkitClient:
    """A client pointed at the simulator, pacing through the test's shared limiter."""
    kwargs.setdefault("rate_limiter", _LIMITERS.setdefault(id(http), RateLimiter()))
    return CoolkitClient(http, app_id, secret, servers=Servers(sim.base_url), **kwargs)  # type: ignore[arg-type]


def paths(sim: Simulator, suffix: str) -> list[str]:
    """Return the request paths the simulator saw that end with `suffix`."""
    return [r.path for r in sim.requests if r.path.endswith(suffix)]


async def test_password_login_follows_the_region_redirect_once(
    cloud: Cloud, session: aiohttp.ClientSession
) -> None:
    """+1 guesses `us`; the account lives in `eu`; 10004 sends the login there."""
    client = make_client(cloud.sim, session)
    result = await client.login(EMAIL, PASSWORD, "+1")
    assert result.region == client.region == "eu"
    assert result.user.apikey == cloud.owner.apikey == client.user_apikey
    assert paths(cloud.sim, "/v2/user/login") == ["/us/v2/user/login", "/eu/v2/user/login"]
    assert await client.get_families()


async def test_phone_login_and_wrong_credentials(
    sim: Simulator, session: aiohttp.ClientSession
) -> None:
    """Phone numbers get the country code; a wrong password or secret gets its own error."""
    sim.add_app(APP_ID, APP_SECRET)
    account = sim.add_account(
        phone="+8613800000000", password=PASSWORD, region="cn", country_code="+86"
    )
    client = make_client(sim, session)
    result = await client.login("138 0000 0000", PASSWORD, "86")
    assert (result.region, result.user.apikey) == ("cn", account.apikey)
    with pytest.raises(InvalidCredentialsError) as err:
        await make_client(sim, session).login("13800000000", "wrong", "+86")
    assert err.value.code == 10001
    assert "wrong" not in str(err.value)
    with pytest.raises(InvalidAppCredentialsError):
        await make_client(sim, session, secret="not-the-secret").login(
            "13800000000", PASSWORD, "+86"
        )


async def test_oauth_only_app_cannot_use_a_password(
    cloud: Cloud, session: aiohttp.ClientSession
) -> None:
    """Free apps get 407 on password login."""
    with pytest.raises(AppNotPermittedError) as err:
        await make_client(cloud.sim, session, OAUTH_APP_ID, OAUTH_APP_SECRET).login(
            EMAIL, PASSWORD, "+49"
        )
    assert err.value.code == 407


async def test_oauth_signed_url_and_code_exchange(
    cloud: Cloud, session: aiohttp.ClientSession
) -> None:
    """The page accepts our signature; the code is exchanged on its region, tried in turn."""
    cloud.sim.add_account("asia@example.com", password="asia-pw", region="as", country_code="+65")
    client = make_client(cloud.sim, session, OAUTH_APP_ID, OAUTH_APP_SECRET)
    url = client.authorization_url(HA_REDIRECT, "the-state", seq="1700000000000")
    query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    assert query["authorization"] == sign(OAUTH_APP_SECRET, f"{OAUTH_APP_ID}_1700000000000")
    assert (query["clientId"], query["grantType"], query["redirectUrl"]) == (
        OAUTH_APP_ID, "authorization_code", HA_REDIRECT
    )  # fmt: skip
    assert len(query["nonce"]) == 8

    redirect = await oauth_code(session, url, "asia@example.com", "asia-pw")
    assert (redirect["state"], redirect["region"]) == ("the-state", "as")
    before = time.time()
    tokens = await client.exchange_code(redirect["code"], HA_REDIRECT)
    assert client.region == "as"
    assert tokens.access_expires_at > before + 86400
    assert paths(cloud.sim, "/v2/user/oauth/token")[-1] == "/as/v2/user/oauth/token"
    user = await client.get_account()
    assert user.email == "asia@example.com"
    with pytest.raises(OAuthCodeError):
        await make_client(cloud.sim, session, OAUTH_APP_ID, OAUTH_APP_SECRET).exchange_code(
            redirect["code"], HA_REDIRECT, region="as"
        )


async def test_oauth_account_apikey_falls_back_on_the_homes(
    cloud: Cloud, session: aiohttp.ClientSession
) -> None:
    """If the profile is refused to an OAuth-only app, the homes name the user apikey."""
    cloud.sim.faults.oauth_profile_denied = True
    client = make_client(cloud.sim, session, OAUTH_APP_ID, OAUTH_APP_SECRET)
    redirect = await oauth_code(
        session, client.authorization_url(HA_REDIRECT, "s"), EMAIL, PASSWORD
    )
    await client.exchange_code(redirect["code"], HA_REDIRECT)
    user = await client.get_account()
    assert user.apikey == cloud.owner.apikey
    assert user.email is None


async def test_proactive_refresh_at_half_life(cloud: Cloud, session: aiohttp.ClientSession) -> None:
    """Past half the access token's life, the next call refreshes first and persists."""
    saved: list[Tokens] = []
    client = make_client(cloud.sim, session, access_lifetime=1.0, on_tokens=saved.append)
    await client.login(EMAIL, PASSWORD, "+49")
    first = client.tokens
    await asyncio.sleep(0.6)
    await client.get_families()
    assert paths(cloud.sim, "/v2/user/refresh") == ["/eu/v2/user/refresh"]
    assert client.tokens != first
    assert saved == [first, client.tokens]


async def test_reactive_refresh_on_402_retries_once(
    cloud: Cloud, session: aiohttp.ClientSession
) -> None:
    """An expired access token (402) is refreshed and the call retried."""
    client = make_client(cloud.sim, session)
    await client.login(EMAIL, PASSWORD, "+49")
    cloud.sim.expire_tokens(cloud.owner, APP_ID, access=True)
    assert await client.get_families()
    assert len(paths(cloud.sim, "/v2/user/refresh")) == 1
    assert len(paths(cloud.sim, "/v2/family")) == 2


async def test_refresh_failure_means_sign_in_again(
    cloud: Cloud, session: aiohttp.ClientSession
) -> None:
    """A refused refresh token raises ReauthRequiredError."""
    client = make_client(cloud.sim, session)
    await client.login(EMAIL, PASSWORD, "+49")
    cloud.sim.expire_tokens(cloud.owner, APP_ID, access=True, refresh=True)
    with pytest.raises(ReauthRequiredError):
        await client.get_families()


async def test_401_session_taken_over(cloud: Cloud, session: aiohttp.ClientSession) -> None:
    """Another login revokes the session: the client tries to renew once, then needs a sign-in."""
    client = make_client(cloud.sim, session)
    await client.login(EMAIL, PASSWORD, "+49")
    await cloud.sim.kick_session(cloud.owner, APP_ID)
    with pytest.raises(ReauthRequiredError):
        await client.get_families()
    assert paths(cloud.sim, "/v2/user/refresh") == ["/eu/v2/user/refresh"]


async def test_calls_to_one_endpoint_are_spaced(
    cloud: Cloud, session: aiohttp.ClientSession
) -> None:
    """Concurrent calls to one endpoint leave the client >= 500 ms apart; the simulator never objects."""
    client = make_client(cloud.sim, session)
    await client.login(EMAIL, PASSWORD, "+49")
    results = await asyncio.gather(*(client.get_families() for _ in range(4)))
    assert all(results)
    times = [r.time for r in cloud.sim.requests if r.path.endswith("/v2/family")]
    assert len(times) == 4
    assert all(b - a >= 0.49 for a, b in itertools.pairwise(times))


async def test_window_cap_holds_calls_back(cloud: Cloud, session: aiohttp.ClientSession) -> None:
    """No burst past the window limit: the extra call waits for the window to move."""
    limiter = RateLimiter(min_interval=0.0, max_calls=3, window=1.0)
    client = make_client(cloud.sim, session, rate_limiter=limiter)
    cloud.sim.config.rate_limit = False
    started = time.monotonic()
    await client.login(EMAIL, PASSWORD, "+49")
    await asyncio.gather(client.get_families(), client.get_families(), client.get_families())
    assert time.monotonic() - started >= 1.0


async def test_quota_and_server_errors(cloud: Cloud, session: aiohttp.ClientSession) -> None:
    """HTTP 403 without an envelope and 412 are rate limits; 500 is a connection error."""
    client = make_client(cloud.sim, session)
    await client.login(EMAIL, PASSWORD, "+49")
    cloud.sim.faults.quota_exhausted = "http403"
    with pytest.raises(RateLimitedError) as err:
        await client.get_families()
    assert err.value.code == 403
    cloud.sim.faults.quota_exhausted = "412"
    with pytest.raises(RateLimitedError):
        await client.get_things(["x"])
    cloud.sim.faults.quota_exhausted = None
    cloud.sim.faults.fail_next("/v2/family", 502)
    with pytest.raises(CoolkitServerError) as server:
        await client.get_families()
    assert server.value.status == 502
    # The one-call read and the paged read both fail: a server error for the caller.
    cloud.sim.faults.fail_next("/v2/device/thing", 500, times=2)
    with pytest.raises(CoolkitConnectionError):
        await client.get_things([cloud.home.id])


async def test_thing_list_pages_homes_and_shared_devices(
    cloud: Cloud, session: aiohttp.ClientSession
) -> None:
    """All pages of every home; shared devices keep their owner's apikey; groups are skipped."""
    sim = cloud.sim
    for n in range(33):
        await sim.add_device(cloud.owner, f"10000001{n:02d}", uiid=1, online=False)
    second = sim.add_home(cloud.owner, "Cottage")
    await sim.add_device(cloud.owner, "1000000200", uiid=2, home=second, online=False)
    await sim.add_device(
        cloud.friend, "1000000300", uiid=5, shared_with=[cloud.owner], online=False
    )
    sim.add_group(cloud.owner, "All lights")
    client = make_client(sim, session)
    await client.login(EMAIL, PASSWORD, "+49")
    things = {thing.deviceid: thing for thing in await client.get_things()}
    assert len(things) == 35
    shared = things["1000000300"]
    assert shared.shared
    assert shared.owner_apikey == cloud.friend.apikey != cloud.owner.apikey
    assert not things["1000000100"].shared
    assert things["1000000200"].uiid == 2
    assert len(paths(sim, "/v2/device/thing")) == 2  # one call per home
    sim.faults.thing_list_max = 30
    client = make_client(sim, session)
    await client.login(EMAIL, PASSWORD, "+49")
    paged = {thing.deviceid: thing for thing in await client.get_things()}
    assert paged.keys() == things.keys()
    await client.get_things()  # refused a second time in a row: pages from now on
    assert client.thing_read_mode == "pages"


async def test_status_and_add_device(cloud: Cloud, session: aiohttp.ClientSession) -> None:
    """REST status get/set reaches the device; offline devices answer 4002; binding checks the digest."""
    sim = cloud.sim
    device = await sim.add_device(cloud.owner, "1000000400", uiid=1)
    client = make_client(sim, session)
    await client.login(EMAIL, PASSWORD, "+49")
    await client.set_thing_status("1000000400", {"switch": "on"})
    await sim.wait_for(lambda: device.params.get("switch") == "on")
    assert (await client.get_thing_status("1000000400", ["switch"]))["switch"] == "on"
    await device.go_offline()
    with pytest.raises(DeviceOfflineError) as err:
        await client.set_thing_status("1000000400", {"switch": "off"})
    assert err.value.code == 4002


async def test_401_is_refreshed_first(cloud: Cloud, session: aiohttp.ClientSession) -> None:
    """A takeover that leaves the refresh token alive: REST 401 is refreshed first, each time
    (no takeover is counted: the at was not renewed moments before it was refused)."""
    cloud.sim.faults.takeover_keeps_refresh = True
    client = make_client(cloud.sim, session)
    await client.login(EMAIL, PASSWORD, "+49")
    await cloud.sim.kick_session(cloud.owner, APP_ID)
    assert await client.get_families()
    await cloud.sim.kick_session(cloud.owner, APP_ID)
    assert await client.get_families()
    assert len(paths(cloud.sim, "/v2/user/refresh")) == 2
    assert client.session_hold == 0


async def test_unknown_country_code_asks_the_region_lookup(
    sim: Simulator, session: aiohttp.ClientSession
) -> None:
    """A calling code the client cannot place is looked up (a Sign-authenticated GET)."""
    sim.add_app(APP_ID, APP_SECRET)
    sim.add_account(phone="+3541234567", password=PASSWORD, region="eu", country_code="+354")
    client = make_client(sim, session)
    assert await client.get_region("+354") == "eu"
    result = await client.login("1234567", PASSWORD, "354")
    assert result.region == "eu"
    assert paths(sim, "/v2/utils/get-region") == ["/v2/utils/get-region"] * 2


async def test_binding_devices_and_signing_out(
    cloud: Cloud, session: aiohttp.ClientSession
) -> None:
    """Wi-Fi devices are bound with the digest of their key; GSM devices by id; logout ends it."""
    sim = cloud.sim
    unpaired = await sim.add_unpaired_device("10000abc01", uiid=1, chipid="00A1B2C3")
    sim.add_gsm_device("gsm-0001", uiid=81)
    client = make_client(sim, session)
    await client.login(EMAIL, PASSWORD, "+49")
    with pytest.raises(CoolkitApiError) as err:
        await client.add_wifi_device("10000abc01", "not-the-key", "Plug", chipid="00A1B2C3")
    assert err.value.code == 30015
    thing = await client.add_wifi_device(
        "10000abc01",
        unpaired.device.factory.apikey,
        "Plug",
        chipid="00A1B2C3",
        family_id=cloud.home.id,
    )
    assert (thing.deviceid, thing.name, thing.owner_apikey) == (
        "10000abc01",
        "Plug",
        cloud.owner.apikey,
    )
    gsm = await client.add_gsm_device("gsm-0001", "Gate", family_id=cloud.home.id)
    assert gsm.name == "Gate"
    assert {t.deviceid for t in await client.get_things()} >= {"10000abc01", gsm.deviceid}
    await client.logout()
    with pytest.raises(ReauthRequiredError):
        await client.get_families()


async def test_dispatch_and_answer_errors(cloud: Cloud, session: aiohttp.ClientSession) -> None:
    """Broken dispatch answers and odd error codes map to the client's error types."""
    sim = cloud.sim
    device = await sim.add_device(cloud.owner, "1000000401", uiid=1)
    client = make_client(sim, session)
    await client.login(EMAIL, PASSWORD, "+49")
    assert (await client.dispatch()).url == f"ws://127.0.0.1:{sim.port}/api/ws"
    sim.faults.fail_next("/dispatch/app", 500)
    with pytest.raises(CoolkitConnectionError):
        await client.dispatch()
    assert "secret" not in repr(client)
    assert (await client.get_thing_status("1000000401"))["switch"] == device.params["switch"]
    for code, error in (
        (504, DeviceTimeoutError),
        (406, CommandRejectedError),
        (10005, RegionError),
    ):
        sim.faults.api_error["/v2/device/thing/status"] = code
        with pytest.raises(error):
            await client.set_thing_status("1000000401", {"switch": "on"})
    sim.faults.api_error.clear()
    client.tokens = Tokens.issued_now("a", "r", access_lifetime=-2, refresh_lifetime=-1)
    with pytest.raises(ReauthRequiredError):
        await client.get_families()
