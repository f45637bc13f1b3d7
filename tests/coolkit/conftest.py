"""Fixtures of the client's tests: a signed-in client with a running long connection."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
import contextlib
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest

from custom_components.ewelink.coolkit import (
    ConnectionState,
    CoolkitClient,
    DeviceEvent,
    LongConnection,
    RateLimiter,
    ReauthRequiredError,
    Servers,
    Tokens,
)
from simulator import Simulator
from tests.common import APP_ID, APP_SECRET, EMAIL, PASSWORD, Cloud


@dataclass
class Harness:
    """A signed-in client with a running long connection and what it delivered."""

    sim: Simulator
    client: CoolkitClient
    connection: LongConnection
    task: asyncio.Task[None]
    events: list[DeviceEvent] = field(default_factory=list)
    states: list[ConnectionState] = field(default_factory=list)
    saved: list[Tokens] = field(default_factory=list)

    async def until(self, predicate: Callable[[], bool], timeout: float = 10.0) -> None:
        """Wait until `predicate()` holds."""
        async with asyncio.timeout(timeout):
            while not predicate():
                await asyncio.sleep(0.02)

    def connects(self) -> int:
        """Return how many times the connection came up."""
        return self.states.count(ConnectionState.CONNECTED)

    def refreshes(self) -> int:
        """Return how many refresh calls the simulator saw."""
        return sum(1 for r in self.sim.requests if r.path.endswith("/v2/user/refresh"))

    async def ended_with_reauth(self, timeout: float = 10.0) -> None:
        """Wait until `run()` ended by asking for a new sign-in."""
        async with asyncio.timeout(timeout):
            with pytest.raises(ReauthRequiredError):
                await asyncio.shield(self.task)
        assert self.connection.state is ConnectionState.AUTH_REQUIRED


type StartConnection = Callable[..., Awaitable[Harness]]


@pytest.fixture
async def start_connection(cloud: Cloud) -> AsyncIterator[StartConnection]:
    """Return a factory: sign in (client options as keywords) and run the long connection."""
    harnesses: list[Harness] = []
    async with aiohttp.ClientSession() as http:

        async def start(**client_options: Any) -> Harness:
            saved: list[Tokens] = []
            client = CoolkitClient(
                http,
                APP_ID,
                APP_SECRET,
                servers=Servers(cloud.sim.base_url),
                rate_limiter=RateLimiter(),
                on_tokens=saved.append,
                **client_options,
            )
            await client.login(EMAIL, PASSWORD, "+49")
            events: list[DeviceEvent] = []
            states: list[ConnectionState] = []
            connection = LongConnection(
                client,
                events.append,
                states.append,
                ack_timeout=3.0,
                handshake_interval=0.2,
                backoff_base=0.2,
                takeover_backoff_base=0.5,
            )
            task = asyncio.create_task(connection.run())
            h = Harness(cloud.sim, client, connection, task, events, states, saved)
            harnesses.append(h)
            await h.until(lambda: connection.connected or task.done())
            return h

        yield start
        for h in harnesses:
            h.task.cancel()
            # The run ends by cancellation, or earlier by asking for a sign-in.
            with contextlib.suppress(asyncio.CancelledError, ReauthRequiredError):
                await h.task
            assert not h.connection.connected


@pytest.fixture
async def harness(start_connection: StartConnection) -> Harness:
    """A signed-in client with its long connection up."""
    h = await start_connection()
    assert h.connection.connected
    return h
