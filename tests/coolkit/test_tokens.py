"""Token lifecycle of the client and the long connection (issue #9 finding 1), over real sockets.

Expiry is not a takeover: an expired or refused access token is refreshed first; only a refusal
right after that refresh (or a 406 kick of a live socket) counts against the takeover budget.
Whenever the refresh token is refused, the long connection ends with `ReauthRequiredError`.
"""

from __future__ import annotations

import aiohttp
import pytest

from custom_components.ewelink.coolkit import (
    ConnectionState,
    CoolkitClient,
    RateLimiter,
    ReauthRequiredError,
    Servers,
    SessionTakenOverError,
)
from simulator import SimulatorConfig
from tests.common import APP_ID, APP_SECRET, EMAIL, PASSWORD, Cloud

from .conftest import Harness, StartConnection


@pytest.fixture
def sim_config() -> SimulatorConfig:
    """A 2 s heartbeat, rate limits on."""
    return SimulatorConfig(hb_interval=2, device_ack_timeout=0.6, device_register_retry=0.2)


@pytest.mark.parametrize("refusal", [406, 401, 402])
async def test_expired_at_at_the_handshake_is_refreshed_not_a_takeover(
    cloud: Cloud, harness: Harness, refusal: int
) -> None:
    """The at dies while the socket is down: the handshake's refusal (406, 401 or 402) is
    answered by a refresh and a retry, the takeover budget stays untouched, and a real
    takeover afterwards is still renewed at once."""
    cloud.sim.faults.ws_expired_at_error = refusal
    closed = cloud.sim.expire_tokens(cloud.owner, APP_ID, close=1006)
    assert closed == 1
    await harness.until(lambda: harness.connects() == 2)
    stats = harness.connection.stats
    assert stats.refused_handshakes == 1
    assert stats.takeovers == 0
    assert harness.refreshes() == 1
    assert ConnectionState.TAKEN_OVER not in harness.states
    # The budget is intact: a takeover (refresh token alive) is renewed at once, no hold.
    await cloud.sim.kick_session(cloud.owner, APP_ID, keep_refresh=True)
    await harness.until(lambda: harness.connects() == 3)
    assert stats.takeovers == 1
    assert harness.client.session_hold == 0


async def test_expired_at_with_a_clean_close(cloud: Cloud, harness: Harness) -> None:
    """The same after a clean close (1000) instead of a dropped connection."""
    cloud.sim.expire_tokens(cloud.owner, APP_ID, close=1000)
    await harness.until(lambda: harness.connects() == 2)
    assert harness.connection.stats.takeovers == 0
    assert harness.refreshes() == 1


async def test_tokens_are_refreshed_while_connected(
    cloud: Cloud, start_connection: StartConnection
) -> None:
    """With a short-lived at, the connection refreshes it before it expires (no REST call
    needed), and a reconnect never hands an expired at to userOnline."""
    cloud.sim.config.at_lifetime = 2.0
    h = await start_connection(access_lifetime=2.0)
    await h.until(lambda: h.refreshes() >= 2, timeout=10)
    assert h.connection.stats.connects == 1
    await cloud.sim.drop_app_sockets(code=1006)
    await h.until(lambda: h.connects() == 2)
    assert h.connection.stats.refused_handshakes == 0
    assert h.saved[-1] == h.client.tokens  # every renewal was handed to the owner to persist


async def test_expired_refresh_token_asks_for_sign_in_at_once(
    cloud: Cloud, harness: Harness
) -> None:
    """at and rt expired, socket closed: the handshake is refused, the refresh too: reauth."""
    cloud.sim.expire_tokens(cloud.owner, APP_ID, access=True, refresh=True, close=1006)
    await harness.ended_with_reauth()
    assert harness.connection.stats.takeovers == 0
    assert harness.client.reauth_required
    with pytest.raises(ReauthRequiredError):
        await harness.client.get_families()


async def test_takeover_with_revoked_tokens_asks_for_sign_in(
    cloud: Cloud, harness: Harness
) -> None:
    """A login elsewhere revokes both tokens: 406 kick, the refresh is refused: reauth."""
    await cloud.sim.kick_session(cloud.owner, APP_ID, keep_refresh=False)
    await harness.ended_with_reauth()
    assert ConnectionState.TAKEN_OVER in harness.states
    assert harness.connection.stats.takeovers == 1


async def test_second_takeover_with_revoked_tokens_asks_for_sign_in(
    cloud: Cloud, harness: Harness
) -> None:
    """The first takeover (rt alive) is renewed; a second one within 10 minutes that revoked
    the tokens puts the session on hold, and the refresh after the hold finds the rt dead."""
    await cloud.sim.kick_session(cloud.owner, APP_ID, keep_refresh=True)
    await harness.until(lambda: harness.connects() == 2)
    await cloud.sim.kick_session(cloud.owner, APP_ID, keep_refresh=False)
    await harness.ended_with_reauth(timeout=15)
    assert harness.connection.stats.takeovers == 2
    assert harness.client.reauth_required


async def test_takeover_right_after_a_handshake_refresh(cloud: Cloud, harness: Harness) -> None:
    """A 406 on the retry that follows the refresh is a takeover (the other client holds the
    session): counted, renewed once, and the connection comes back."""
    cloud.sim.faults.takeover_keeps_refresh = True
    cloud.sim.expire_tokens(cloud.owner, APP_ID, close=1006)
    # Another client signs in right after the handshake's refresh.
    cloud.sim.faults.login_elsewhere_after_refresh = 1
    await harness.until(lambda: harness.connects() == 2, timeout=15)
    assert harness.connection.stats.refused_handshakes == 2
    assert harness.connection.stats.takeovers == 1


async def test_rest_401_and_402_refresh_first(cloud: Cloud, harness: Harness) -> None:
    """REST: 402 and 401 are refreshed first (no takeover); 401 right after the refresh is a
    takeover, renewed once; a second one within 10 minutes is a hold during which calls fail
    at once without reaching the cloud; after the hold the session is taken back."""
    sim, client = cloud.sim, harness.client
    sim.faults.api_error_next("/v2/family", 402)
    assert await client.get_families()
    sim.faults.api_error_next("/v2/family", 401)
    assert await client.get_families()
    assert harness.refreshes() == 2
    assert client.session_hold == 0
    sim.faults.api_error_next("/v2/family", 401, times=2)
    assert await client.get_families()  # refresh, 401 again: takeover, renewed at once
    assert harness.refreshes() == 4
    sim.faults.api_error_next("/v2/family", 401, times=2)
    with pytest.raises(SessionTakenOverError) as held:
        await client.get_families()  # refresh, 401 again: second takeover, hold
    assert held.value.retry_after > 0
    calls = len(sim.requests)
    with pytest.raises(SessionTakenOverError):
        await client.get_families()
    assert len(sim.requests) == calls
    await harness.until(lambda: client.session_hold == 0)
    assert await client.get_families()
    assert harness.refreshes() == 6


async def test_rest_refused_refresh_is_final(cloud: Cloud) -> None:
    """Once the refresh token is refused, every call asks for a sign-in (no more requests);
    a new sign-in clears it."""
    async with aiohttp.ClientSession() as http:
        client = CoolkitClient(
            http,
            APP_ID,
            APP_SECRET,
            servers=Servers(cloud.sim.base_url),
            rate_limiter=RateLimiter(),
        )
        await client.login(EMAIL, PASSWORD, "+49")
        await cloud.sim.kick_session(cloud.owner, APP_ID, keep_refresh=False)
        with pytest.raises(ReauthRequiredError):
            await client.get_families()
        calls = len(cloud.sim.requests)
        with pytest.raises(ReauthRequiredError):
            await client.get_things()
        with pytest.raises(ReauthRequiredError):
            await client.refresh()
        assert len(cloud.sim.requests) == calls
        await client.login(EMAIL, PASSWORD, "+49")
        assert not client.reauth_required
        assert await client.get_families()
