"""`python -m simulator --lan`: the demo devices serve the LAN, also with the cloud stopped."""

from __future__ import annotations

import aiohttp

from .test_cli import cli


async def test_cli_lan_devices_keep_serving_without_the_cloud() -> None:
    async with (
        cli("--port", "0", "--lan", "--no-drift") as (line, _elapsed),
        aiohttp.ClientSession() as http,
    ):
        admin = line["admin_url"]
        async with http.get(f"{admin}/lan") as resp:
            lan = await resp.json()
        devices = lan["devices"]
        assert len(devices) >= 5
        assert all(d["running"] and d["port"] for d in devices.values())
        assert len({d["port"] for d in devices.values()}) == len(devices)
        async with http.post(f"{admin}/cloud", json={"up": False}) as resp:
            assert await resp.json() == {"up": False}
        plug = next(d for d in devices.values() if d["type"] == "plug" and d["powered"])
        body = {"deviceid": plug["deviceid"], "data": {}}
        async with http.post(f"{plug['url']}/zeroconf/getState", json=body) as resp:
            reply = await resp.json()
        assert reply["error"] == 401  # the device encrypts: it answers without the cloud
        async with http.post(f"{admin}/cloud", json={"up": True}) as resp:
            assert await resp.json() == {"up": True}
