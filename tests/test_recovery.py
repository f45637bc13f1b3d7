"""What the chaos soak (scripts/soak, tests/soak) found, each guarded here (#9)."""

from __future__ import annotations

from homeassistant.config_entries import SOURCE_REAUTH
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.ewelink.const import DOMAIN
from custom_components.ewelink.coordinator import (
    RETRY_MAX,
    RETRY_MAX_STALE,
    STALE_RETRY_PERIOD,
)
from tests.common import APP_ID, Cloud, state_of, wait_for
from tests.conftest import setup_entry


async def test_catch_up_is_fresh_soon_after_a_long_storm(
    hass: HomeAssistant, cloud: Cloud, config_entry: MockConfigEntry
) -> None:
    """A catch-up read refused many times in a row is retried every few seconds, not every
    30: the state is fresh soon after the storm ends.

    Regression (soak, storm_412 / http500_things): the backoff doubled to 30 s, so after six
    refusals (1 + 2 + 4 + 8 + 16 + 30 s) the entities stayed stale for up to half a minute
    after the cloud was fine again.
    """
    lamp = await cloud.sim.add_device(cloud.owner, "1000000301", uiid=1, name="Lamp")
    await setup_entry(hass, config_entry)
    coordinator = config_entry.runtime_data.coordinator
    lamp.drop_acks = True  # websocket queries cannot help: only a REST read will
    cloud.sim.faults.refuse_ws_seconds = 1
    await cloud.sim.drop_app_sockets()
    await wait_for(lambda: not coordinator.connected)
    await lamp.report({"switch": "on"})  # missed
    failures = coordinator.sync_stats.failures
    cloud.sim.faults.api_error_next("/v2/device/thing", 412, times=6)
    await wait_for(lambda: coordinator.connected, timeout=20)
    # Six refusals take 7.5-15 s with the cap, 31-61 s without it.
    await wait_for(lambda: state_of(hass, "switch.lamp") == "on", timeout=25)
    assert coordinator.sync_stats.failures == failures + 6
    assert not coordinator.stale


async def test_read_retry_cap(
    hass: HomeAssistant, cloud: Cloud, config_entry: MockConfigEntry
) -> None:
    """Retries are quick only while a catch-up is due, and only for the first minutes."""
    await cloud.sim.add_device(cloud.owner, "1000000302", uiid=1, name="Lamp")
    await setup_entry(hass, config_entry)
    coordinator = config_entry.runtime_data.coordinator
    assert not coordinator.stale
    assert coordinator._read_retry_cap(5) == RETRY_MAX  # a periodic read: nothing is stale
    coordinator._stale.add("1000000302")
    assert coordinator._read_retry_cap(5) == RETRY_MAX_STALE
    assert coordinator._read_retry_cap(STALE_RETRY_PERIOD + 1) == RETRY_MAX
    delays = [coordinator._retry_delay(n, RETRY_MAX_STALE) for n in range(1, 12)]
    assert max(delays) <= RETRY_MAX_STALE
    assert all(d >= 0.5 for d in delays)


async def test_a_command_that_finds_the_session_dead_starts_reauth(
    hass: HomeAssistant, cloud: Cloud, config_entry: MockConfigEntry
) -> None:
    """A command over REST that finds the refresh token refused asks for a new sign-in at
    once, not when the long connection next tries to reconnect (up to minutes later).

    Regression (soak, rt_expiry): the command failed with "signed out" and the reauth flow
    waited for the connection's backoff.
    """
    await cloud.sim.add_device(cloud.owner, "1000000303", uiid=1, name="Lamp")
    await setup_entry(hass, config_entry)
    coordinator = config_entry.runtime_data.coordinator
    cloud.sim.faults.refuse_ws_seconds = 3600  # the connection cannot find out by itself
    cloud.sim.expire_tokens(cloud.owner, APP_ID, access=True, refresh=True, close=1006)
    await wait_for(lambda: coordinator.connection.stats.last_error is not None, timeout=20)
    assert not hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    with pytest.raises(HomeAssistantError) as err:
        await hass.services.async_call(
            "switch", "turn_on", {"entity_id": "switch.lamp"}, blocking=True
        )
    assert err.value.translation_key == "command_signed_out"
    await hass.async_block_till_done()
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert [flow["context"]["source"] for flow in flows] == [SOURCE_REAUTH]
    cloud.sim.faults.refuse_ws_seconds = 0
