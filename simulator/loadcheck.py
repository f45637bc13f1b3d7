"""Load check: `python -m simulator.loadcheck [--devices 1000] [--seconds 20]`.

Starts a simulator with N generated devices in one process, connects one app session, and prints
one JSON object of figures: startup time, resident memory, CPU use while idle (heartbeats and
drift running), command round-trip times and push counts.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import hashlib
import hmac
import json
import logging
import random
import resource
import statistics
import sys
import time
from typing import Any

import aiohttp

from .config import SimulatorConfig
from .scenario import add_load_devices
from .server import Simulator


def _rss_mb() -> float:
    try:
        with open("/proc/self/statm", encoding="ascii") as f:
            pages = int(f.read().split()[1])
        return pages * resource.getpagesize() / 1e6
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def run_load(
    devices: int = 1000,
    seconds: float = 20.0,
    *,
    hb_interval: int = 145,
    drift: bool = True,
    commands: int = 50,
) -> dict[str, Any]:
    """Run the load check and return its figures."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = 4 * devices + 256
    if soft != resource.RLIM_INFINITY and soft < wanted:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (min(wanted, hard), hard))
    rss_before = _rss_mb()
    config = SimulatorConfig(
        hb_interval=hb_interval, rate_limit=False, drift=drift, drift_interval=20.0
    )
    sim = Simulator(config)
    app = sim.add_app(password_login=True)
    cpu0, t0 = _cpu(), time.monotonic()
    await sim.start()
    owner = await add_load_devices(sim, 0)
    added = time.monotonic()
    for i in range(devices):
        await sim.add_device(
            owner, uiid=(1, 2, 77, 5, 15, 32, 126, 181, 190, 4)[i % 10], wait=False
        )
    await sim.wait_for(
        lambda: all(d.online and d.can_send for d in sim.devices.values()), timeout=120
    )
    startup = time.monotonic() - added
    startup_cpu = _cpu() - cpu0
    figures: dict[str, Any] = {
        "devices": devices,
        "online": sum(1 for d in sim.store.devices.values() if d.online),
        "startup_seconds": round(startup, 2),
        "startup_cpu_seconds": round(startup_cpu, 2),
        "rss_mb_before": round(rss_before, 1),
        "rss_mb_after_start": round(_rss_mb(), 1),
    }
    try:
        async with aiohttp.ClientSession() as http:
            body = json.dumps({"email": owner.email, "password": owner.password}).encode()
            sig = base64.b64encode(
                hmac.new(app.secret.encode(), body, hashlib.sha256).digest()
            ).decode()
            headers = {
                "X-CK-Appid": app.appid,
                "Authorization": f"Sign {sig}",
                "Content-Type": "application/json",
            }
            async with http.post(
                f"{sim.api_url('eu')}/v2/user/login", data=body, headers=headers
            ) as resp:
                at = (await resp.json())["data"]["at"]
            ws = await http.ws_connect(sim.ws_url)
            await ws.send_json(
                {
                    "action": "userOnline",
                    "at": at,
                    "apikey": owner.apikey,
                    "appid": app.appid,
                    "userAgent": "app",
                    "nonce": "loadtest",
                    "sequence": "1",
                }
            )
            await ws.receive_json(timeout=5)
            pushes = 0

            async def reader() -> None:
                nonlocal pushes
                async for msg in ws:
                    if msg.type == aiohttp.WSMsgType.TEXT and '"action":"update"' in msg.data:
                        pushes += 1
                    elif msg.type == aiohttp.WSMsgType.TEXT and msg.data != "pong":
                        frame = json.loads(msg.data)
                        if "action" not in frame:
                            waiters.pop(str(frame.get("sequence")), asyncio.Future()).set_result(
                                frame
                            )

            waiters: dict[str, asyncio.Future[Any]] = {}
            read_task = asyncio.create_task(reader())
            rtts: list[float] = []
            ids = [d for d, v in sim.devices.items() if v.uiid in (1, 5, 15, 32, 181)]
            rng = random.Random(1)
            errors = 0
            for n in range(commands):
                deviceid = rng.choice(ids)
                seq = f"load{n}"
                fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
                waiters[seq] = fut
                start = time.monotonic()
                await ws.send_json(
                    {
                        "action": "update",
                        "deviceid": deviceid,
                        "apikey": owner.apikey,
                        "selfApikey": owner.apikey,
                        "userAgent": "app",
                        "sequence": seq,
                        "params": {"switch": "on" if n % 2 else "off"},
                    }
                )
                ack = await asyncio.wait_for(fut, 10)
                errors += ack.get("error", 0) != 0
                rtts.append((time.monotonic() - start) * 1000)
            figures["command_rtt_ms"] = {
                "median": round(statistics.median(rtts), 2),
                "p95": round(sorted(rtts)[int(len(rtts) * 0.95) - 1], 2),
                "max": round(max(rtts), 2),
                "errors": errors,
            }
            cpu1, t1 = _cpu(), time.monotonic()
            end = t1 + seconds
            while time.monotonic() < end:
                await asyncio.sleep(min(5.0, end - time.monotonic()))
                await ws.send_str("ping")
            figures["idle_seconds"] = round(time.monotonic() - t1, 1)
            figures["idle_cpu_percent"] = round(100 * (_cpu() - cpu1) / (time.monotonic() - t1), 1)
            figures["pushes_received"] = pushes
            figures["still_online"] = sum(1 for d in sim.store.devices.values() if d.online)
            figures["rss_mb_end"] = round(_rss_mb(), 1)
            figures["hub"] = dict(sim.hub.stats)
            read_task.cancel()
            await ws.close()
            with contextlib.suppress(asyncio.CancelledError):
                await read_task
    finally:
        stop0 = time.monotonic()
        await sim.stop()
        figures["stop_seconds"] = round(time.monotonic() - stop0, 2)
    figures["total_seconds"] = round(time.monotonic() - t0, 2)
    return figures


def main(argv: list[str] | None = None) -> int:
    """Entry point."""
    parser = argparse.ArgumentParser(prog="python -m simulator.loadcheck")
    parser.add_argument("--devices", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=20.0, help="idle period measured")
    parser.add_argument("--hb-interval", type=int, default=145)
    parser.add_argument("--no-drift", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    figures = asyncio.run(
        run_load(args.devices, args.seconds, hb_interval=args.hb_interval, drift=not args.no_drift)
    )
    sys.stdout.write(json.dumps(figures) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
