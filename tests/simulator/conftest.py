"""Fixtures of the simulator's own tests: a fast simulator, an HTTP session, a small world."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import aiohttp
import pytest

from simulator import Account, App, Home, Simulator, SimulatorConfig

from .helpers import Api


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations() -> None:
    """The simulator's tests need no Home Assistant instance (overrides the root fixture)."""


@pytest.fixture(autouse=True)
def _sockets(socket_enabled: None) -> None:
    """Every simulator test talks over real loopback sockets."""


def fast_config(**overrides: object) -> SimulatorConfig:
    """Return a configuration with short timings for tests."""
    values: dict[str, object] = {
        "hb_interval": 2,
        "device_ack_timeout": 0.5,
        "rate_limit": False,
        "device_register_retry": 0.05,
        "device_reconnect_delay": 0.05,
        "esptouch_ack_interval": 0.005,
        "esptouch_ack_count": 5,
        "shutdown_timeout": 1.0,
        "oauth_code_ttl": 30.0,
    }
    values.update(overrides)
    return SimulatorConfig(**values)  # type: ignore[arg-type]


@pytest.fixture
def config() -> SimulatorConfig:
    """Return the simulator configuration (override in a module for other timings)."""
    return fast_config()


@pytest.fixture
async def sim(config: SimulatorConfig) -> AsyncIterator[Simulator]:
    """Return a running simulator; it is stopped (every socket and task) after the test."""
    async with Simulator(config) as simulator:
        yield simulator


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    """Return a client session for the test."""
    async with aiohttp.ClientSession() as session:
        yield session


@dataclass
class World:
    """A small world: two apps, an owner, a friend who shares a device with the owner."""

    sim: Simulator
    app: App
    oauth_app: App
    owner: Account
    friend: Account
    home: Home
    api: Api


REDIRECT = "http://127.0.0.1:8123/auth/external/callback"


@pytest.fixture
async def world(sim: Simulator, http: aiohttp.ClientSession) -> World:
    """Return apps and accounts (no devices)."""
    app = sim.add_app("TestPasswordApp00000000000000001", "TestPasswordSecret00000000000001")
    oauth_app = sim.add_app(
        "TestOAuthApp0000000000000000002",
        "TestOAuthSecret0000000000000002",
        password_login=False,
        redirect_urls=[REDIRECT],
    )
    owner = sim.add_account(
        "owner@example.com", password="owner-pw", region="eu", country_code="+49"
    )
    home = sim.add_home(owner, "Home", ["Kitchen", "Bedroom"])
    friend = sim.add_account("friend@example.com", password="friend-pw", region="eu")
    sim.add_home(friend, "Flat", ["Hall"])
    return World(sim, app, oauth_app, owner, friend, home, Api(http, sim, app))
