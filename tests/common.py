"""Constants and helpers shared by the tests."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import aiohttp
from homeassistant.core import HomeAssistant

from simulator import Simulator
from simulator.state import Account, App, Home

APP_ID = "ewelinktestapp000000000000000001"
APP_SECRET = "test-app-secret-0123456789abcdef"
OAUTH_APP_ID = "ewelinkoauthapp00000000000000002"
OAUTH_APP_SECRET = "oauth-app-secret-0123456789abcde"
EMAIL = "owner@example.com"
PASSWORD = "correct-password"
HA_REDIRECT = "https://example.com/auth/external/callback"


@dataclass
class Cloud:
    """The standard test world: apps, an owner account with a home, another account."""

    sim: Simulator
    app: App
    oauth_app: App
    owner: Account
    home: Home
    friend: Account


def state_of(hass: HomeAssistant, entity_id: str) -> str | None:
    """Return an entity's state, or None when it does not exist."""
    state = hass.states.get(entity_id)
    return state.state if state else None


async def wait_for(predicate: Callable[[], object], timeout: float = 10.0) -> None:
    """Wait (real time: the simulator runs on real sockets) until `predicate()` is truthy."""
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.02)


async def oauth_code(
    http: aiohttp.ClientSession, url: str, account: str, password: str
) -> dict[str, str]:
    """Sign in on the authorization page like a browser; return the redirect's query."""
    async with http.get(url) as page:
        assert page.status == 200
        assert "<form" in await page.text()
    query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    async with http.post(
        url.split("?", maxsplit=1)[0],
        data={**query, "account": account, "password": password},
        allow_redirects=False,
    ) as answer:
        assert answer.status == 302, await answer.text()
        location = answer.headers["Location"]
    assert location.startswith(HA_REDIRECT)
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
