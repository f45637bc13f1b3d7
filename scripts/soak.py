"""Chaos soak against a real Home Assistant (not a test; prints a table). See scripts/soak.

Starts the simulator in this process and `.venv/bin/hass` on a temporary configuration (HTTP,
API, websocket API, config, onboarding, this integration linked in), onboards a user, signs in
to the simulated account through the config flow, then lets `tests/soak/engine.py` inject faults
while the devices change state and Home Assistant sends commands (websocket `call_service`).
The measures are defined in `tests/soak/__init__.py` and README "Development".

Usage: scripts/soak [--devices 300] [--minutes 10] [--seed S] [--kinds a,b] [--hb-interval 145]
                    [--changes R] [--commands R] [--verbose] [--debug] [--keep]
--keep keeps the configuration directory and Home Assistant's log; --debug logs the integration
at debug level there.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Callable, Iterable
import contextlib
import itertools
import json
import logging
import os
from pathlib import Path
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from typing import Any

import aiohttp

from custom_components.ewelink.config_flow import ENV_CUSTOM_SERVER
from simulator import Simulator, SimulatorConfig
from tests.soak.engine import (
    APP_ID,
    APP_SECRET,
    FAULTS,
    GOAL_REAUTH,
    GOAL_RECOVERY,
    KINDS,
    PASSWORD,
    CommandError,
    LogReport,
    Soak,
    SoakConfig,
    SoakError,
)

ROOT = Path(__file__).resolve().parent.parent
USER, USER_PASSWORD = "soak", "soak-password-0123"
CONFIGURATION = """\
# Written by scripts/soak: the least Home Assistant needs for the soak.
homeassistant:
  name: Soak
http:
  server_host: 127.0.0.1
  server_port: {port}
api:
websocket_api:
config:
onboarding:
logger:
  default: warning
  logs:
    custom_components.ewelink: {level}
"""
LOG_LINE = re.compile(
    r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+ (?P<level>[A-Z]+) \([^)]*\) \[(?P<logger>[^\]]+)\] "
    r"(?P<message>.*)$"
)


def free_port() -> int:
    """Return a TCP port free on 127.0.0.1 now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class RealHomeAssistant:
    """`HomeAssistantSide` on a `hass` process, through its REST and websocket APIs."""

    def __init__(self, config_dir: Path, *, debug: bool = False) -> None:
        """Prepare the configuration directory; `start()` runs Home Assistant."""
        self.config_dir = config_dir
        self.debug = debug
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None
        self.http: aiohttp.ClientSession | None = None
        self.ws: aiohttp.ClientWebSocketResponse | None = None
        self.token = ""
        self._ids = itertools.count(1)
        self._waiting: dict[int, asyncio.Future[Any]] = {}
        self._events: dict[int, Callable[[Any], None]] = {}
        self._reader: asyncio.Task[None] | None = None
        self._log_start = 0

    @property
    def log_path(self) -> Path:
        """Return Home Assistant's log file."""
        return self.config_dir / "home-assistant.log"

    # -- process ----------------------------------------------------------------------------

    async def start(self) -> None:
        """Start Home Assistant, onboard a user and open the websocket API."""
        components = self.config_dir / "custom_components"
        components.mkdir(parents=True, exist_ok=True)
        (components / "ewelink").symlink_to(ROOT / "custom_components" / "ewelink")
        (self.config_dir / "configuration.yaml").write_text(
            CONFIGURATION.format(port=self.port, level="debug" if self.debug else "info"),
            encoding="utf-8",
        )
        with (self.config_dir / "hass.out").open("wb") as output:
            self.process = subprocess.Popen(  # noqa: ASYNC220  it runs beside us, not awaited
                [str(ROOT / ".venv/bin/hass"), "--config", str(self.config_dir), "--skip-pip"],
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                # Offers "Use a custom server" in the sign-in menu (the soak's cloud is ours).
                env={**os.environ, ENV_CUSTOM_SERVER: "http://127.0.0.1"},
            )
        self.http = aiohttp.ClientSession()
        started = time.monotonic()
        while True:
            if self.process.poll() is not None:
                raise SoakError(f"Home Assistant exited; see {self.config_dir}/hass.out")
            with contextlib.suppress(aiohttp.ClientError, OSError):
                async with self.http.get(f"{self.url}/api/onboarding") as response:
                    if response.status == 200:
                        break
            if time.monotonic() - started > 300:
                raise SoakError("Home Assistant did not answer within 5 minutes")
            await asyncio.sleep(0.5)
        await self._onboard()
        await self._open_websocket()
        # HA 2026.10 moves the YAML `http:` settings to a pending config that reverts (with a
        # restart) after five minutes unless the user confirms it works: confirm it.
        with contextlib.suppress(CommandError):
            await self.command({"type": "http/config/promote"})
        reply = await self.command(
            {"type": "auth/long_lived_access_token", "client_name": "soak", "lifespan": 30}
        )
        self.token = reply

    async def stop(self) -> None:
        """Close the APIs and stop Home Assistant."""
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        if self.ws is not None:
            await self.ws.close()
        if self.http is not None:
            await self.http.close()
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                await asyncio.to_thread(self.process.wait, 60)
            except subprocess.TimeoutExpired:
                self.process.kill()

    @property
    def _http(self) -> aiohttp.ClientSession:
        if self.http is None:
            raise SoakError("Home Assistant is not started")
        return self.http

    @property
    def _ws(self) -> aiohttp.ClientWebSocketResponse:
        if self.ws is None:
            raise SoakError("the websocket API is not open")
        return self.ws

    async def _onboard(self) -> None:
        client_id = f"{self.url}/"
        async with self._http.post(
            f"{self.url}/api/onboarding/users",
            json={
                "client_id": client_id,
                "name": "Soak",
                "username": USER,
                "password": USER_PASSWORD,
                "language": "en",
            },
        ) as response:
            response.raise_for_status()
            code = (await response.json())["auth_code"]
        async with self._http.post(
            f"{self.url}/auth/token",
            data={"grant_type": "authorization_code", "code": code, "client_id": client_id},
        ) as response:
            response.raise_for_status()
            self.token = (await response.json())["access_token"]

    # -- websocket API ------------------------------------------------------------------------

    async def _open_websocket(self) -> None:
        self.ws = await self._http.ws_connect(f"{self.url}/api/websocket", max_msg_size=0)
        hello = await self.ws.receive_json()
        if hello.get("type") != "auth_required":
            raise SoakError(f"unexpected websocket greeting {hello}")
        await self.ws.send_json({"type": "auth", "access_token": self.token})
        answer = await self.ws.receive_json()
        if answer.get("type") != "auth_ok":
            raise SoakError(f"websocket auth failed: {answer}")
        self._reader = asyncio.create_task(self._read())
        await self.command({"type": "supported_features", "features": {"coalesce_messages": 1}})

    async def _read(self) -> None:
        async for message in self._ws:
            if message.type is not aiohttp.WSMsgType.TEXT:
                continue
            data = json.loads(message.data)
            for item in data if isinstance(data, list) else [data]:
                self._dispatch(item)
        for future in self._waiting.values():
            if not future.done():
                future.set_exception(SoakError("Home Assistant's websocket closed"))

    def _dispatch(self, item: dict[str, Any]) -> None:
        ident = item.get("id")
        if item.get("type") == "event":
            if (handler := self._events.get(ident)) is not None:  # type: ignore[arg-type]
                handler(item["event"])
            return
        future = self._waiting.pop(ident, None)  # type: ignore[arg-type]
        if future is None or future.done():
            return
        if item.get("success"):
            future.set_result(item.get("result"))
        else:
            future.set_exception(CommandError(_error_text(item.get("error"))))

    async def command(self, message: dict[str, Any], limit: float = 120) -> Any:
        """Send a websocket command and return its result."""
        ident = next(self._ids)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._waiting[ident] = future
        await self._ws.send_json({"id": ident, **message})
        async with asyncio.timeout(limit):
            return await future

    async def rest(self, method: str, path: str, body: Any = None) -> Any:
        """Call the REST API."""
        async with self._http.request(
            method,
            f"{self.url}{path}",
            json=body,
            headers={"Authorization": f"Bearer {self.token}"},
        ) as response:
            text = await response.text()
            if response.status >= 400:
                raise CommandError(f"{method} {path}: HTTP {response.status} {text[:200]}")
            return json.loads(text) if text else None

    # -- HomeAssistantSide -------------------------------------------------------------------

    async def add_entry(self, base_url: str, email: str) -> str:
        """Run the config flow as a user: custom server, password sign-in; wait until loaded."""
        flow = await self.rest(
            "POST",
            "/api/config/config_entries/flow",
            {"handler": "ewelink", "show_advanced_options": True},
        )
        path = f"/api/config/config_entries/flow/{flow['flow_id']}"
        await self.rest("POST", path, {"next_step_id": "server"})
        await self.rest("POST", path, {"server": base_url})
        await self.rest("POST", path, {"next_step_id": "password"})
        result = await self.rest(
            "POST",
            path,
            {
                "app_id": APP_ID,
                "app_secret": APP_SECRET,
                "account": email,
                "password": PASSWORD,
                "country_code": "+49",
            },
        )
        if result.get("type") != "create_entry":
            raise SoakError(f"sign-in failed: {result}")
        entry_id: str = result["result"]["entry_id"]
        async with asyncio.timeout(600):
            while not await self.entry_loaded(entry_id):  # noqa: ASYNC110  polls the API
                await asyncio.sleep(0.5)
        self._log_start = self.log_path.stat().st_size if self.log_path.exists() else 0
        return entry_id

    async def entities(self, entry_ids: Iterable[str]) -> dict[str, str]:
        """Return the entries' enabled entities from the entity registry."""
        wanted = set(entry_ids)
        entries = await self.command({"type": "config/entity_registry/list"})
        return {
            e["entity_id"]: e["unique_id"]
            for e in entries
            if e.get("config_entry_id") in wanted and e.get("disabled_by") is None
        }

    def subscribe(self, callback: Callable[[str, str | None], None]) -> None:
        """Mirror every state: the current ones, then every state_changed event."""
        seen: set[str] = set()

        def changed(event: dict[str, Any]) -> None:
            data = event["data"]
            new = data.get("new_state")
            seen.add(data["entity_id"])
            callback(data["entity_id"], None if new is None else new["state"])

        ident = next(self._ids)
        self._events[ident] = changed

        async def start() -> None:
            future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
            self._waiting[ident] = future
            await self._ws.send_json(
                {"id": ident, "type": "subscribe_events", "event_type": "state_changed"}
            )
            await future
            for state in await self.command({"type": "get_states"}):
                if state["entity_id"] not in seen:
                    callback(state["entity_id"], state["state"])

        self._subscribed = asyncio.ensure_future(start())

    async def call_service(self, domain: str, service: str, entity_id: str) -> None:
        """Call a service as the frontend or an automation does."""
        await self.command(
            {
                "type": "call_service",
                "domain": domain,
                "service": service,
                "target": {"entity_id": entity_id},
            },
            limit=60,
        )

    async def reauth_flow(self, entry_id: str) -> str | None:
        """Return the entry's reauth flow in progress."""
        for flow in await self.command({"type": "config_entries/flow/progress"}):
            context = flow.get("context") or {}
            if (
                flow.get("handler") == "ewelink"
                and context.get("source") == "reauth"
                and context.get("entry_id") == entry_id
            ):
                return str(flow["flow_id"])
        return None

    async def finish_reauth(self, flow_id: str, password: str) -> None:
        """Sign in again in the reauth flow."""
        result = await self.rest(
            "POST", f"/api/config/config_entries/flow/{flow_id}", {"password": password}
        )
        if result.get("reason") != "reauth_successful":
            raise SoakError(f"reauth failed: {result}")

    async def reload(self, entry_id: str) -> None:
        """Reload the entry."""
        await self.rest("POST", f"/api/config/config_entries/entry/{entry_id}/reload")

    async def entry_loaded(self, entry_id: str) -> bool:
        """Return True when the entry is loaded."""
        for entry in await self.rest("GET", "/api/config/config_entries/entry"):
            if entry["entry_id"] == entry_id:
                return bool(entry["state"] == "loaded")
        return False

    def log_report(self) -> LogReport:
        """Parse Home Assistant's log from the first entry's setup on."""
        report = LogReport()
        if not self.log_path.exists():
            return report
        with self.log_path.open(encoding="utf-8", errors="replace") as log:
            log.seek(self._log_start)
            current: tuple[str, str] | None = None
            traced = False
            for line in log:
                if match := LOG_LINE.match(line):
                    level, logger = match["level"], match["logger"]
                    current = None
                    traced = False
                    if level in ("WARNING", "ERROR", "CRITICAL"):
                        report.by_logger[logger] += 1
                        current = (logger, match["message"][:200])
                elif current is not None and not traced and line.startswith("Traceback"):
                    traced = True
                    report.tracebacks.append(f"{current[0]}: {current[1]}")
        return report


def _error_text(error: Any) -> str:
    if isinstance(error, dict):
        return str(error.get("translation_key") or error.get("code") or error.get("message"))
    return str(error)


async def run(args: argparse.Namespace) -> int:
    """Run the soak; return the exit code (1 when a goal fails)."""
    kinds = tuple(args.kinds.split(",")) if args.kinds else KINDS
    if unknown := [k for k in kinds if k not in KINDS]:
        raise SystemExit(f"unknown fault kinds: {unknown}; known: {', '.join(KINDS)}")
    config = SoakConfig(
        devices=args.devices,
        minutes=args.minutes,
        seed=args.seed,
        kinds=kinds,
        command_rate=args.commands,
        change_rate=args.changes,
    )
    sim_config = SimulatorConfig(
        hb_interval=args.hb_interval,
        device_connect_concurrency=128,
        device_ack_timeout=config.ack_timeout,
    )
    config_dir = Path(tempfile.mkdtemp(prefix="ewelink-soak-"))
    print(f"[soak] {args.devices} devices, {args.minutes} min, seed {args.seed}; "
          f"Home Assistant in {config_dir}", file=sys.stderr, flush=True)  # fmt: skip
    ha = RealHomeAssistant(config_dir, debug=args.debug)
    try:
        async with Simulator(sim_config) as sim:
            await ha.start()
            soak = Soak(config, sim, ha)
            await soak.run()
    finally:
        await ha.stop()
        if not args.keep:
            shutil.rmtree(config_dir, ignore_errors=True)
    print()
    print("\n".join(soak.report()))
    print()
    print("fault kinds:")
    for kind in kinds:
        print(f"  {kind:<17} {FAULTS[kind]}")
    failed = soak.goals()
    print()
    print(
        f"goals: recovery <= {GOAL_RECOVERY:g} s after all-clear (rt expiry: reauth <= "
        f"{GOAL_REAUTH:g} s after the refused refresh), 0 leftover, 0 lost, 0 tracebacks: "
        + ("all hold" if not failed else "FAIL")
    )
    for line in failed:
        print(f"  FAIL {line}")
    if args.keep:
        print(f"Home Assistant's log: {ha.log_path}")
    return 1 if failed else 0


def main() -> None:
    """Parse the arguments and run."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--devices", type=int, default=300)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--seed", type=int, default=random.SystemRandom().randrange(1 << 30))
    parser.add_argument("--kinds", default="", help="comma-separated fault kinds (default: all)")
    parser.add_argument("--changes", type=float, default=None, help="device changes per second")
    parser.add_argument("--commands", type=float, default=1.0, help="commands per second")
    parser.add_argument("--hb-interval", type=int, default=145, help="the cloud's hbInterval")
    parser.add_argument("--keep", action="store_true", help="keep Home Assistant's directory")
    parser.add_argument("--verbose", action="store_true", help="log the soak's progress")
    parser.add_argument("--debug", action="store_true", help="debug log of the integration")
    args = parser.parse_args()
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    logging.getLogger("simulator").setLevel(logging.WARNING)
    sys.exit(asyncio.run(run(args)))


if __name__ == "__main__":
    main()
