"""Rate limits, quotas and injected HTTP errors."""

from __future__ import annotations

import asyncio
import time

import pytest

from simulator import SimulatorConfig

from .conftest import World, fast_config

LOGIN = {"email": "owner@example.com", "password": "owner-pw"}


@pytest.fixture
def config() -> SimulatorConfig:
    """Rate limits on (as by default), with a small window count for the 5-minute rule."""
    return fast_config(rate_limit=True, rate_min_interval=0.3, rate_max_calls=6, rate_window=300.0)


async def test_rate_limits_are_on_by_default() -> None:
    """The default configuration enforces the documented limits."""
    config = SimulatorConfig()
    assert config.rate_limit
    assert config.rate_min_interval == 0.5
    assert (config.rate_max_calls, config.rate_window) == (300, 300.0)


async def test_same_endpoint_too_fast(world: World) -> None:
    """The same endpoint faster than the minimum interval answers 412; others are fine."""
    api = world.api
    at = (await api.login(**LOGIN))["at"]
    assert (await api.bearer("GET", "/v2/family", at))["error"] == 0
    env = await api.bearer("GET", "/v2/family", at)
    assert env == {"error": 412, "msg": "request too frequent", "data": {}}
    assert (await api.bearer("GET", "/v2/device/thing", at))["error"] == 0
    # The 10004 redirect retry goes to another region's host at once, and is not limited.
    env = await api.call("POST", "us", "/v2/user/login", body=LOGIN)
    assert env["error"] == 10004
    await asyncio.sleep(0.35)
    assert (await api.bearer("GET", "/v2/family", at))["error"] == 0
    times = [r.time for r in world.sim.requests if r.path == "/eu/v2/family"]
    assert len(times) == 3
    assert all(r.appid == world.app.appid for r in world.sim.requests)


async def test_calls_per_window(world: World) -> None:
    """More than the allowed calls in the window answer 412 until the counters reset."""
    api = world.api
    at = (await api.login(**LOGIN))["at"]
    paths = [
        "/v2/family",
        "/v2/device/thing",
        "/v2/user/profile",
        "/v2/device/group",
        "/v2/family",
        "/v2/device/thing",
    ]
    results = []
    for path in paths:
        results.append((await api.bearer("GET", path, at))["error"])
        await asyncio.sleep(0.31 if path in paths[:2] else 0)
    assert results[:5] == [0, 0, 0, 0, 0]
    assert results[5] == 412  # 6 calls allowed: login + 5
    world.sim.rest.limiter.reset()
    assert (await api.bearer("GET", "/v2/family", at))["error"] == 0


async def test_rate_limit_switch(world: World) -> None:
    """With rate_limit off, bursts pass."""
    world.sim.config.rate_limit = False
    at = (await world.api.login(**LOGIN))["at"]
    started = time.monotonic()
    for _ in range(10):
        assert (await world.api.bearer("GET", "/v2/family", at))["error"] == 0
    assert time.monotonic() - started < 2


async def test_quota_exhausted(world: World) -> None:
    """Monthly quota: HTTP 403 without an envelope, or error 412 (knob or per-app counter)."""
    world.sim.config.rate_limit = False
    api = world.api
    world.sim.faults.quota_exhausted = "http403"
    status, body = await api.request("POST", "eu", "/v2/user/login", body=LOGIN)
    assert status == 403
    assert not isinstance(body, dict)
    world.sim.faults.quota_exhausted = "412"
    status, body = await api.request("POST", "eu", "/v2/user/login", body=LOGIN)
    assert status == 200
    assert body["error"] == 412
    world.sim.faults.quota_exhausted = None
    world.app.monthly_quota = 2
    world.app.quota_mode = "412"
    world.app.calls.clear()
    assert (await api.call("POST", "eu", "/v2/user/login", body=LOGIN))["error"] == 0
    assert (await api.call("POST", "eu", "/v2/user/login", body=LOGIN))["error"] == 0
    assert (await api.call("POST", "eu", "/v2/user/login", body=LOGIN))["error"] == 412
    assert (await api.call("POST", "us", "/v2/user/login", body=LOGIN))[
        "error"
    ] == 10004  # per region


async def test_injected_http_errors_and_latency(world: World) -> None:
    """http_error answers plain HTTP statuses per path (optionally a number of times); latency delays."""
    world.sim.config.rate_limit = False
    api, faults = world.api, world.sim.faults
    at = (await api.login(**LOGIN))["at"]
    faults.http_error["/v2/family"] = 500
    status, _ = await api.request("GET", "eu", "/v2/family", at=at)
    assert status == 500
    status, _ = await api.request("GET", "eu", "/v2/family", at=at)
    assert status == 500
    faults.http_error.clear()
    faults.fail_next("/v2/device/thing", 502, times=1)
    status, _ = await api.request("GET", "eu", "/v2/device/thing", at=at)
    assert status == 502
    assert (await api.bearer("GET", "/v2/device/thing", at))["error"] == 0
    faults.fail_next("/dispatch/app", 503)
    async with api.http.get(world.sim.dispatch_url("eu")) as resp:
        assert resp.status == 503
    faults.api_error["/v2/family"] = 10099
    env = await api.bearer("GET", "/v2/family", at)
    assert env == {"error": 10099, "msg": "injected by the simulator", "data": {}}
    faults.api_error.clear()
    faults.api_error["/eu/v2/family"] = 500
    faults.api_error_times["/eu/v2/family"] = 1
    assert (await api.bearer("GET", "/v2/family", at))["error"] == 500
    assert (await api.bearer("GET", "/v2/family", at))["error"] == 0
    faults.latency = 0.2
    started = time.monotonic()
    assert (await api.bearer("GET", "/v2/family", at))["error"] == 0
    assert time.monotonic() - started >= 0.2
