"""Benchmark the integration against the simulator in a Home Assistant instance (not a test).

For 1 and for N (default 1000) simulated devices it measures:
  (a) setup: from setting the config entry up until every expected entity exists and the
      long connection is up;
  (b) CPU time per pushed update, from the frame text received by the long connection to the
      entity state written, and the same for a bare `hass.states.async_set` in the same run,
      with their ratio;
  (c) recovery: from dropping the websocket to every switch showing the state its device
      changed to while the socket was down (reconnect + resync of the thing list).
The simulator runs in the same process and event loop (its devices' CPU is included in (a)
and (c), not in (b)). Usage: scripts/bench [--devices N] [--updates M]
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Callable
import json
import logging
import sys
import tempfile
import time

from homeassistant import loader
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er, frame
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_test_home_assistant,
)

import custom_components.ewelink  # noqa: F401  the repository's package wins over any other
from custom_components.ewelink.api import rate_limiter
from custom_components.ewelink.const import DOMAIN
from custom_components.ewelink.coolkit import CoolkitClient, Servers
from simulator import Simulator, SimulatorConfig

APP_ID, APP_SECRET = "benchapp000000000000000000000001", "bench-secret"
EMAIL, PASSWORD = "bench@example.com", "bench-password"
# A realistic mix: plugs, multi-channel, metering, TH.
MIX = (1, 2, 4, 32, 190, 15, 77, 126)


async def wait_until(predicate: Callable[[], bool], limit: float) -> None:
    """Poll `predicate` every 10 ms (a benchmark measures; it has no event to wait on)."""
    async with asyncio.timeout(limit):
        while not predicate():  # noqa: ASYNC110
            await asyncio.sleep(0.01)


async def entry_for(hass: HomeAssistant, sim: Simulator) -> MockConfigEntry:
    """Sign in on the simulator and add the config entry."""
    client = CoolkitClient(
        async_get_clientsession(hass),
        APP_ID,
        APP_SECRET,
        servers=Servers(sim.base_url),
        rate_limiter=rate_limiter(hass),
    )
    login = await client.login(EMAIL, PASSWORD, "+49")
    entry = MockConfigEntry(
        domain=DOMAIN,
        title=EMAIL,
        unique_id=login.user.apikey,
        data={
            "auth_type": "password",
            "app_id": APP_ID,
            "app_secret": APP_SECRET,
            "account": EMAIL,
            "country_code": "+49",
            "server": sim.base_url,
            "region": login.region,
            "user_apikey": login.user.apikey,
            "token": login.tokens.as_dict(),
        },
    )
    entry.add_to_hass(hass)
    return entry


def cpu_per_call(function: Callable[[int], None], count: int) -> float:
    """Return the process CPU time per call, in microseconds."""
    started = time.process_time()
    for n in range(count):
        function(n)
    return (time.process_time() - started) / count * 1e6


async def run(devices: int, updates: int) -> dict[str, float]:
    """Measure one account of `devices` devices."""
    config = SimulatorConfig(hb_interval=145, device_connect_concurrency=128)
    with tempfile.TemporaryDirectory() as config_dir:
        async with (
            Simulator(config) as sim,
            async_test_home_assistant(config_dir=config_dir) as hass,
        ):
            hass.data.pop(loader.DATA_CUSTOM_COMPONENTS, None)
            frame.async_setup(hass)
            await async_setup_component(hass, "network", {})  # the web session's resolver needs it
            sim.add_app(APP_ID, APP_SECRET)
            owner = sim.add_account(EMAIL, password=PASSWORD, region="eu")
            home = sim.add_home(owner, "Home")
            for n in range(devices):
                await sim.add_device(
                    owner, f"1{n:09d}", uiid=MIX[n % len(MIX)], home=home, wait=False
                )
            await sim.wait_for(lambda: all(d.online for d in sim.devices.values()), timeout=300)
            entry = await entry_for(hass, sim)

            # (a) setup until every entity exists and the socket is up
            started = time.perf_counter()
            if not await hass.config_entries.async_setup(entry.entry_id):
                raise RuntimeError("setup failed")
            coordinator = entry.runtime_data.coordinator
            expected = len(hass.states.async_entity_ids())  # all entities are added at setup
            await wait_until(lambda: coordinator.connected, 120)
            setup_seconds = time.perf_counter() - started
            await hass.async_block_till_done()

            # (b) CPU per pushed update vs. the bare state-machine floor
            deviceid = "1000000000"  # UIID 1: a switch
            apikey = owner.apikey
            frames = [
                json.dumps({"action": "update", "deviceid": deviceid, "apikey": apikey, "userAgent": "device",
                            "ts": 0, "params": {"switch": "on" if n % 2 else "off"}, "from": "device"})
                for n in range(2)
            ]  # fmt: skip
            handle = coordinator.connection._handle_text  # the frame entry point
            ours = cpu_per_call(lambda n: handle(frames[n % 2]), updates)
            floor = cpu_per_call(
                lambda n: hass.states.async_set("sensor.bench_floor", "on" if n % 2 else "off"),
                updates,
            )
            await hass.async_block_till_done()

            # (c) socket drop until every switch shows what changed while the socket was down
            sim.faults.refuse_ws_seconds = 0.5
            started = time.perf_counter()
            await sim.drop_app_sockets()
            await wait_until(lambda: not coordinator.connected, 30)
            singles = [d for d in sim.devices.values() if d.uiid == 1]
            for device in singles:
                await device.report({"switch": "on"})
            switch_ids = {
                e.unique_id.split("_")[0]: e.entity_id
                for e in er.async_entries_for_config_entry(er.async_get(hass), entry.entry_id)
                if e.unique_id.endswith("_switch")
            }

            def fresh() -> bool:
                return all(
                    (state := hass.states.get(switch_ids[d.deviceid])) is not None
                    and state.state == "on"
                    for d in singles
                )

            await wait_until(fresh, 300)
            recovery_seconds = time.perf_counter() - started
            await hass.config_entries.async_unload(entry.entry_id)
            return {
                "devices": devices,
                "entities": expected,
                "setup_s": setup_seconds,
                "update_us": ours,
                "floor_us": floor,
                "ratio": ours / floor,
                "recovery_s": recovery_seconds,
            }


def main() -> None:
    """Run both sizes and print a table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--devices", type=int, default=1000)
    parser.add_argument("--updates", type=int, default=20000)
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    rows = [asyncio.run(run(count, args.updates)) for count in (1, args.devices)]
    print(
        f"{'devices':>8} {'entities':>9} {'setup (s)':>10} {'update CPU (us)':>16} "
        f"{'floor (us)':>11} {'ratio':>6} {'drop->fresh (s)':>16}"
    )
    for row in rows:
        print(
            f"{row['devices']:>8} {row['entities']:>9} {row['setup_s']:>10.2f} "
            f"{row['update_us']:>16.1f} {row['floor_us']:>11.1f} {row['ratio']:>6.1f} "
            f"{row['recovery_s']:>16.2f}"
        )
    sys.stdout.flush()


if __name__ == "__main__":
    main()
