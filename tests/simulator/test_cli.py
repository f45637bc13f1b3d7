"""`python -m simulator`: start time, the JSON line, the default scenario, scenario files, load."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
import contextlib
import json
from pathlib import Path
import sys
import time
from typing import Any

import aiohttp
import pytest

from simulator.loadcheck import run_load
from simulator.scenario import default_scenario

from .helpers import compact, sign

ROOT = Path(__file__).resolve().parents[2]


@contextlib.asynccontextmanager
async def cli(*args: str) -> AsyncIterator[tuple[dict[str, Any], float]]:
    """Run the CLI; yield its JSON line and the seconds it took to print it; stop it."""
    started = time.monotonic()
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "simulator", *args, "--log-level", "WARNING",
        cwd=ROOT, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        line = await asyncio.wait_for(proc.stdout.readline(), 30)
        elapsed = time.monotonic() - started
        assert line, (await proc.stderr.read()).decode() if proc.stderr else ""
        yield json.loads(line), elapsed
    finally:
        if proc.returncode is None:
            proc.terminate()
        _, err = await asyncio.wait_for(proc.communicate(), 10)
        assert proc.returncode == 0, err.decode()


async def login(
    http: aiohttp.ClientSession, line: dict[str, Any], account: dict[str, Any], app: dict[str, Any]
) -> Any:
    body = compact(
        {
            "email": account["email"],
            "password": account["password"],
            "countryCode": account["country_code"],
        }
    )
    headers = {
        "X-CK-Appid": app["appid"],
        "Authorization": f"Sign {sign(app['secret'], body)}",
        "Content-Type": "application/json",
    }
    async with http.post(
        f"{line['regions'][account['region']]['api']}/v2/user/login", data=body, headers=headers
    ) as resp:
        return await resp.json()


async def test_cli_default_scenario() -> None:
    """The JSON line arrives in under 2 s and describes a usable default world."""
    async with cli() as (line, elapsed), aiohttp.ClientSession() as http:
        assert elapsed < 2.0, elapsed
        for key in (
            "base_url",
            "regions",
            "ws_url",
            "oauth_url",
            "admin_url",
            "apps",
            "accounts",
            "wifi",
            "unpaired",
            "gsm",
        ):
            assert key in line, key
        assert set(line["regions"]) == {"cn", "as", "us", "eu"}
        assert line["regions"]["eu"]["dispatch"].endswith("/eu/dispatch/app")
        apps = {a["password_login"]: a for a in line["apps"]}
        assert "http://127.0.0.1:8123/auth/external/callback" in apps[False]["redirect_urls"]
        assert "https://my.home-assistant.io/redirect/oauth" in apps[False]["redirect_urls"]
        demo = next(a for a in line["accounts"] if a["email"] == "demo@example.com")
        assert demo["password"] == "demo-password"
        assert demo["region"] == "eu"
        assert line["unpaired"][0]["http_url"].startswith("http://127.0.0.1:")
        assert line["unpaired"][0]["udp_port"] > 0
        assert line["gsm"][0]["gsm_id"]
        assert line["devices"]["online"] == line["devices"]["bound"] - 1  # one offline device
        env = await login(http, line, demo, apps[True])
        assert env["error"] == 0
        at = env["data"]["at"]
        await asyncio.sleep(0.55)  # the CLI keeps the rate limits on: same endpoint >= 500 ms apart
        env = await login(http, line, demo, apps[False])
        assert env["error"] == 407
        async with http.get(
            f"{line['regions']['eu']['api']}/v2/device/thing",
            params={"num": "0"},
            headers={"Authorization": f"Bearer {at}"},
        ) as resp:
            things = (await resp.json())["data"]["thingList"]
        types = [t["itemType"] for t in things]
        assert types.count(2) == 1
        assert types.count(3) == 1
        uiids = {t["itemData"]["extra"]["uiid"] for t in things if t["itemType"] != 3}
        assert {1, 2, 4, 5, 15, 32, 77, 126, 181, 190, 66, 1770} <= uiids
        async with http.get(f"{line['admin_url']}/devices") as resp:
            truth = await resp.json()
        assert truth["100000000d"]["online"] is False


async def test_cli_scenario_file_and_generated_devices(tmp_path: Path) -> None:
    """--scenario loads a file of the documented shape; --devices adds generated devices."""
    scenario = default_scenario()
    scenario["devices"] = scenario["devices"][:2]
    scenario["groups"] = []
    scenario["unpaired"] = []
    scenario["gsm"] = []
    scenario["drift"] = False
    path = tmp_path / "scenario.json"
    path.write_text(json.dumps(scenario))
    async with cli("--scenario", str(path), "--devices", "30") as (line, _elapsed):
        assert line["devices"] == {"bound": 32, "online": 32}
        assert line["unpaired"] == []
        assert any(a["email"] == "load@example.com" for a in line["accounts"])


@pytest.mark.parametrize("devices", [1000])
async def test_thousand_devices_in_one_process(devices: int) -> None:
    """1000 connected virtual devices: fast start, commands answered, nobody drops."""
    loop = asyncio.get_running_loop()
    debug = loop.get_debug()
    loop.set_debug(False)  # the test plugin's asyncio debug mode costs ~10x CPU per callback
    try:
        figures = await run_load(devices, seconds=1.0, commands=20)
    finally:
        loop.set_debug(debug)
    print(figures)  # noqa: T201
    assert figures["online"] == devices
    assert figures["still_online"] == devices
    assert figures["startup_seconds"] < 15
    assert figures["command_rtt_ms"]["errors"] == 0
    assert figures["rss_mb_end"] - figures["rss_mb_before"] < 400
