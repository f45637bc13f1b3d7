"""The short soak: 30 devices, one fault of every kind, the goals of the long one (#9).

Home Assistant is the test harness's `hass` in this process; the simulator runs over real
sockets, nothing of ours is mocked. The devices are spread over 7 accounts (entries) so that no
connection meets more than two faults in a row (each reconnect backoff stays short). Limits are
those of `scripts/soak` with a margin for a loaded 2-core machine.
"""

from __future__ import annotations

import asyncio

from homeassistant.core import HomeAssistant
import pytest

from custom_components.ewelink.config_flow import ENV_CUSTOM_SERVER
from simulator import Simulator, SimulatorConfig

from .engine import KINDS, Soak, SoakConfig
from .inprocess import InProcessHomeAssistant


@pytest.mark.usefixtures("socket_enabled")
async def test_short_soak(hass: HomeAssistant, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every fault kind once: recovery, no leftover state, no lost command, no traceback."""
    monkeypatch.setenv(ENV_CUSTOM_SERVER, "http://127.0.0.1")  # the sign-in menu offers it
    asyncio.get_running_loop().set_debug(False)  # the plugin's debug mode is 10x slower
    config = SoakConfig(
        devices=30,
        seed=9,
        rounds=1,
        lanes=7,
        change_rate=3.0,
        command_rate=2.0,
        tempo=0.25,
        recovery_limit=30.0,
        socket_limit=60.0,
        ack_timeout=1.0,
    )
    ha = InProcessHomeAssistant(hass)
    sim_config = SimulatorConfig(
        hb_interval=4, device_ack_timeout=config.ack_timeout, device_register_retry=0.2
    )
    try:
        async with Simulator(sim_config) as sim:
            soak = Soak(config, sim, ha)
            try:
                await soak.run()
            finally:
                for lane in soak.lanes:
                    if lane.entry_id:
                        await hass.config_entries.async_unload(lane.entry_id)
                await hass.async_block_till_done()
    finally:
        ha.close()
    print("\n".join(soak.report()))  # noqa: T201  the table, shown with -s or on failure
    assert sorted(f.kind for f in soak.faults) == sorted(KINDS)
    assert soak.commands, "no command was sent"
    assert soak.changes, "no device changed"
    assert soak.goals(recovery=10.0, reauth=5.0) == []
