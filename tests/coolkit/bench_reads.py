# ruff: noqa: T201 - a measurement script prints its figures
"""How long reading an account's devices takes, each way, with CoolKit's rate limits on.

    .venv/bin/python -m tests.coolkit.bench_reads --devices 1000 [--query-devices 100]

Prints (does not assert) one line per way: a whole home in one call (num=0), pages of 30
(the fallback, first read and remembered), specific things 10 per call, and websocket
`query` per device (measured on `--query-devices` devices and extrapolated).
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Awaitable, Callable
import logging
import time
from typing import Any

import aiohttp

from custom_components.ewelink.coolkit import (
    CoolkitClient,
    DeviceEvent,
    LongConnection,
    RateLimiter,
    Servers,
)
from simulator import Simulator, SimulatorConfig

APP_ID, APP_SECRET = "benchreadsapp0000000000000000001", "bench-reads-secret"
EMAIL, PASSWORD = "bench@example.com", "bench-password"


async def timed(label: str, calls: Callable[[], int], work: Callable[[], Awaitable[Any]]) -> Any:
    """Run `work`, print its wall time and the REST calls it made."""
    before = calls()
    started = time.monotonic()
    result = await work()
    elapsed = time.monotonic() - started
    print(f"{label:<44} {elapsed:8.2f} s  {calls() - before:4d} REST calls")
    return result


async def main(devices: int, query_devices: int) -> None:
    """Build an account of `devices` devices and read it every way."""
    logging.basicConfig(level=logging.WARNING)
    config = SimulatorConfig(hb_interval=145, device_ack_timeout=5.0)
    async with Simulator(config) as sim:
        sim.add_app(APP_ID, APP_SECRET)
        owner = sim.add_account(EMAIL, password=PASSWORD, region="eu")
        home = sim.add_home(owner, "Home")
        started = time.monotonic()
        ids = [
            (await sim.add_device(owner, uiid=1, online=n < query_devices, wait=False)).deviceid
            for n in range(devices)
        ]
        await sim.wait_for(lambda: sum(d.online for d in sim.devices.values()) >= query_devices,
                           timeout=120)  # fmt: skip
        print(f"{devices} devices ({query_devices} online) in {time.monotonic() - started:.1f} s")

        def calls() -> int:
            return len(sim.requests)

        async with aiohttp.ClientSession() as http:

            async def client() -> CoolkitClient:
                sim.rest.limiter.reset()
                new = CoolkitClient(
                    http, APP_ID, APP_SECRET, servers=Servers(sim.base_url),
                    rate_limiter=RateLimiter(),
                )  # fmt: skip
                await new.login(EMAIL, PASSWORD, "+49")
                return new

            one = await client()
            things = await timed("one call per home (num=0)", calls, one.get_things)
            assert len(things) == devices
            sim.faults.thing_list_max = 30
            paged = await client()
            await timed("pages of 30, first read (num=0 refused)", calls, paged.get_things)
            await timed("pages of 30, second read (num=0 refused)", calls, paged.get_things)
            assert paged.thing_read_mode == "pages"
            sim.rest.limiter.reset()
            await timed("pages of 30, remembered", calls, lambda: paged.get_things([home.id]))
            sim.faults.thing_list_max = None
            by_ids = await client()
            got = await timed(
                f"specific things, {devices} ids (10 per call)", calls,
                lambda: by_ids.get_things_by_ids(ids),
            )  # fmt: skip
            assert len(got) == devices
            await timed("specific things, 10 ids (1 call)", calls,
                        lambda: by_ids.get_things_by_ids(ids[:10]))  # fmt: skip
            ws_client = await client()
            events: list[DeviceEvent] = []
            connection = LongConnection(ws_client, events.append)
            task = asyncio.create_task(connection.run())
            while not connection.connected:
                await asyncio.sleep(0.05)
            apikey = owner.apikey

            async def query_all() -> None:
                await asyncio.gather(*(connection.query(d, apikey) for d in ids[:query_devices]))

            started = time.monotonic()
            await timed(f"websocket query, {query_devices} devices", calls, query_all)
            per = (time.monotonic() - started) / query_devices
            print(
                f"{'websocket query, extrapolated to ' + str(devices):<44} {per * devices:8.2f} s"
            )
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--devices", type=int, default=1000)
    parser.add_argument("--query-devices", type=int, default=100)
    args = parser.parse_args()
    asyncio.run(main(args.devices, min(args.query_devices, args.devices)))
