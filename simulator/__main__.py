"""`python -m simulator [--host H] [--port P] [--scenario FILE] [--state FILE [--fresh]] ...`.

Starts the simulator with the default scenario (or a scenario file), prints ONE JSON line with
every URL, app ID, secret, account and password a client needs, then logs activity to stderr
until interrupted.

With `--state FILE` the world (apps, accounts, sessions and tokens, devices and their state) is
loaded from FILE when it exists, instead of the scenario, and saved there every few seconds
when it changed and on exit; `--fresh` ignores (and replaces) a saved world.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
from pathlib import Path
import resource
import signal
import sys
import time

from .config import SimulatorConfig
from .persist import load_world, save_world, world
from .scenario import add_load_devices, apply_scenario, default_scenario, describe, load_scenario
from .server import Simulator

_LOGGER = logging.getLogger("simulator.cli")


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m simulator", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port to bind (default: any free port)")
    parser.add_argument("--scenario", help="JSON scenario file (default: the built-in demo)")
    parser.add_argument(
        "--devices", type=int, default=0, help="add N generated devices for load work"
    )
    parser.add_argument("--hb-interval", type=int, default=145, help="websocket hbInterval (s)")
    parser.add_argument("--no-drift", action="store_true", help="no simulated measurement drift")
    parser.add_argument("--no-rate-limit", action="store_true", help="disable the REST rate limits")
    parser.add_argument("--log-level", default="INFO", help="DEBUG, INFO, WARNING (default INFO)")
    parser.add_argument(
        "--log-frames", action="store_true", help="log every websocket frame (DEBUG)"
    )
    parser.add_argument(
        "--lan", action="store_true", help="LAN-capable devices serve /zeroconf and announce"
    )
    parser.add_argument(
        "--mdns",
        metavar="ADDRESS",
        action="append",
        help="with --lan: also publish real mDNS on this interface address (repeatable)",
    )
    parser.add_argument(
        "--state", metavar="FILE", help="load the world from FILE if it exists; keep it saved there"
    )
    parser.add_argument(
        "--fresh", action="store_true", help="with --state: start from the scenario again"
    )
    parser.add_argument(
        "--save-interval", type=float, default=5.0, help="with --state: seconds between saves"
    )
    parser.add_argument(
        "--redirect-url",
        metavar="URL",
        action="append",
        default=[],
        help="also register this OAuth redirect URL for every app (repeatable)",
    )
    parser.add_argument(
        "--dump-scenario", action="store_true", help="print the default scenario and exit"
    )
    return parser.parse_args(argv)


def _raise_fd_limit(needed: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY or soft >= needed:
        return
    target = needed if hard == resource.RLIM_INFINITY else min(hard, needed)
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


async def run(args: argparse.Namespace) -> int:
    """Start, print the JSON line, serve until SIGINT/SIGTERM."""
    started = time.monotonic()
    config = SimulatorConfig(
        host=args.host,
        port=args.port,
        hb_interval=args.hb_interval,
        rate_limit=not args.no_rate_limit,
        log_frames=args.log_frames,
        lan=args.lan,
        lan_mdns=bool(args.lan and args.mdns),
    )
    if args.mdns:
        config.lan_mdns_interfaces = list(args.mdns)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    sim = Simulator(config)
    if args.state and not args.fresh and args.state_exists:
        load_world(sim, args.state)
    else:
        scenario = load_scenario(args.scenario) if args.scenario else default_scenario()
        await apply_scenario(sim, scenario)
    for app in sim.store.apps.values():
        app.redirect_urls += [url for url in args.redirect_url if url not in app.redirect_urls]
    if args.no_drift:
        config.drift = False
    if args.devices > 0:
        _raise_fd_limit(4 * args.devices + 256)
        await add_load_devices(sim, args.devices)
    await sim.start()
    line = describe(sim)
    line["startup_seconds"] = round(time.monotonic() - started, 3)
    line["state_file"] = args.state
    saver = asyncio.create_task(_keep_saved(sim, args.state, args.save_interval, stop))
    sys.stdout.write(json.dumps(line, separators=(",", ":")) + "\n")
    sys.stdout.flush()
    try:
        await stop.wait()
    finally:
        _LOGGER.info("shutting down")
        await saver
        await sim.stop()
    return 0


async def _keep_saved(
    sim: Simulator, path: str | None, interval: float, stop: asyncio.Event
) -> None:
    """Save the world when it changed, every `interval` seconds and once more at the end."""
    if not path:
        return
    last = ""
    while True:
        stopping = stop.is_set()
        snapshot = json.dumps(world(sim), sort_keys=True, default=str)
        if snapshot != last:
            try:
                save_world(sim, path)
                last = snapshot
            except OSError as err:
                _LOGGER.warning("could not save the world to %s: %s", path, err)
        if stopping:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), interval)


def main(argv: list[str] | None = None) -> int:
    """Entry point."""
    args = _parse(argv)
    if args.dump_scenario:
        sys.stdout.write(json.dumps(default_scenario(), indent=2) + "\n")
        return 0
    if args.state:
        args.state = str(Path(args.state).resolve())
    args.state_exists = bool(args.state) and Path(args.state).exists()
    logging.basicConfig(
        level=getattr(logging, str(args.log_level).upper(), logging.INFO),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    if not args.log_frames:
        logging.getLogger("simulator.frames").setLevel(logging.INFO)
    try:
        return asyncio.run(run(args))
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main())
