"""The simulator keeps its world across restarts (`--state FILE`): sessions, devices, state."""

from __future__ import annotations

import json
from pathlib import Path

import aiohttp
import pytest

from simulator import Simulator
from simulator.persist import load_world, save_world
from simulator.scenario import apply_scenario, default_scenario

from .conftest import fast_config
from .helpers import Api
from .test_cli import cli, login


async def test_world_round_trip(tmp_path: Path, http: aiohttp.ClientSession) -> None:
    """Every record of the default world comes back: tokens work, params and bridges are kept."""
    path = tmp_path / "world.json"
    async with Simulator(fast_config()) as sim:
        await apply_scenario(sim, default_scenario())
        app = next(a for a in sim.store.apps.values() if a.password_login)
        api = Api(http, sim, app)
        demo = sim.store.account_by_ref("demo@example.com")
        session = await api.login("demo@example.com", "demo-password")
        first = next(iter(sim.devices.values()))
        bound = [d for d in sim.devices.values() if d.deviceid in sim.store.devices]
        await bound[0].report({"switch": "off", "custom_param": [1, {"x": "y"}]})
        unpaired = next(iter(sim.unpaired))
        before = {
            deviceid: (d.params, d.want_online, d.parent.deviceid if d.parent else None)
            for deviceid, d in sim.devices.items()
        }
        cloud_before = {d: (c.name, c.familyid, c.roomid, c.owner.apikey, len(c.shares))
                        for d, c in sim.store.devices.items()}  # fmt: skip
        homes_before = [(h.id, h.rooms) for h in demo.homes]
        save_world(sim, path)
    assert first.deviceid in json.loads(path.read_text())["devices"]

    restored = Simulator(fast_config())
    load_world(restored, path)
    async with restored:
        after = {
            deviceid: (d.params, d.want_online, d.parent.deviceid if d.parent else None)
            for deviceid, d in restored.devices.items()
        }
        assert after == before
        cloud_after = {d: (c.name, c.familyid, c.roomid, c.owner.apikey, len(c.shares))
                       for d, c in restored.store.devices.items()}  # fmt: skip
        assert cloud_after == cloud_before
        account = restored.store.account_by_ref("demo@example.com")
        assert [(h.id, h.rooms) for h in account.homes] == homes_before
        assert set(restored.store.groups) == set(sim.store.groups)
        assert set(restored.store.gsm) == set(sim.store.gsm)
        assert set(restored.unpaired) == {unpaired}
        assert restored.unpaired[unpaired].state == "pairing"
        assert restored.unpaired[unpaired].http_port > 0
        # The saved access token still works, and the bound devices came online again.
        things = await Api(http, restored, app).bearer("GET", "/v2/device/thing", session["at"])
        assert things["error"] == 0, things
        online = [d for d in restored.store.devices.values() if d.online]
        assert online
        assert restored.device(bound[0].deviceid).params["custom_param"] == [1, {"x": "y"}]


async def test_load_refuses_a_running_simulator_and_other_files(tmp_path: Path) -> None:
    """Loading needs a simulator that has not started, and a world file."""
    path = tmp_path / "world.json"
    path.write_text(json.dumps({"format": 99}))
    with pytest.raises(ValueError, match="not a simulator world"):
        load_world(Simulator(fast_config()), path)
    async with Simulator(fast_config()) as running:
        with pytest.raises(RuntimeError, match="before the simulator starts"):
            load_world(running, path)


async def test_cli_state_survives_a_restart_and_fresh_forgets(tmp_path: Path) -> None:
    """--state: a session and a paired device survive a restart; --fresh starts over."""
    state = str(tmp_path / "world.json")
    async with (
        cli("--state", state, "--save-interval", "0.2") as (line, _),
        aiohttp.ClientSession() as http,
    ):
        assert line["state_file"].endswith("world.json")
        demo = next(a for a in line["accounts"] if a["email"] == "demo@example.com")
        app = next(a for a in line["apps"] if a["password_login"])
        at = (await login(http, line, demo, app))["data"]["at"]
        async with http.post(
            f"{line['admin_url']}/devices",
            json={
                "deviceid": "10000f00d1",
                "uiid": 1,
                "name": "Added later",
                "owner": "demo@example.com",
            },
        ) as resp:
            assert resp.status == 200
    async with cli("--state", state) as (line, _), aiohttp.ClientSession() as http:
        async with http.get(
            f"{line['regions']['eu']['api']}/v2/device/thing",
            params={"num": "0"},
            headers={"Authorization": f"Bearer {at}"},
        ) as resp:
            body = await resp.json()
        assert body["error"] == 0
        names = {t["itemData"].get("name") for t in body["data"]["thingList"]}
        assert "Added later" in names
    async with cli("--state", state, "--fresh") as (line, _), aiohttp.ClientSession() as http:
        async with http.get(
            f"{line['regions']['eu']['api']}/v2/device/thing",
            params={"num": "0"},
            headers={"Authorization": f"Bearer {at}"},
        ) as resp:
            body = await resp.json()
        assert body["error"] != 0  # the old session is gone
