"""Helpers of the LAN integration tests: the simulator's announcements into the discovery seam."""

from __future__ import annotations

from collections.abc import Callable, Iterator
import os
import shutil
import subprocess
from typing import Any
import uuid

from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.ewelink.const import CONF_LAN_MODE, DOMAIN
from custom_components.ewelink.lan_control import LanControl
from custom_components.ewelink.lan_hub import async_get_hub
from simulator import LanAnnouncement, Simulator, SimulatorConfig
from tests.common import EMAIL, Cloud


def lan_config() -> SimulatorConfig:
    """The root suite's simulator settings with LAN devices on."""
    return SimulatorConfig(
        hb_interval=4, device_ack_timeout=1.0, device_register_retry=0.2, lan=True
    )


def feed_lan(hass: HomeAssistant, sim: Simulator) -> Callable[[], None]:
    """Hand every announcement of the simulator to the integration's discovery seam.

    The simulator's in-process feed replays the latest record of every running device first,
    as the answers to a browser's first query would be. Returns the unsubscribe callback.
    """
    hub = async_get_hub(hass)

    def deliver(announcement: LanAnnouncement) -> None:
        hub.discovery.feed(
            announcement.name, announcement.addresses, announcement.port, announcement.properties
        )

    return sim.lan.subscribe(deliver, replay=True)


def add_entry(
    hass: HomeAssistant, cloud: Cloud, entry_data: dict[str, Any], mode: str | None = None
) -> MockConfigEntry:
    """Add the owner's entry with a LAN mode (None: the default)."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        title=EMAIL,
        unique_id=cloud.owner.apikey,
        data=entry_data,
        options={} if mode is None else {CONF_LAN_MODE: mode},
    )
    entry.add_to_hass(hass)
    return entry


def lan_of(entry: MockConfigEntry) -> LanControl:
    """Return the entry's LAN control (it must have one)."""
    lan = entry.runtime_data.lan
    assert lan is not None
    return lan


@pytest.fixture
def sim_config() -> SimulatorConfig:
    """LAN devices on (import this fixture into a test module to use it)."""
    return lan_config()


def _ip(*args: str) -> subprocess.CompletedProcess[str]:
    tool = shutil.which("ip") or "/usr/sbin/ip"
    return subprocess.run([tool, *args], capture_output=True, text=True, check=False)  # noqa: S603 - fixed arguments


@pytest.fixture
def netns() -> Iterator[str]:
    """Move this thread into a fresh network namespace whose loopback carries multicast.

    The approach of tests/lan/test_discovery.py: everything opened afterwards in this thread
    (the simulator and its mDNS publisher, Home Assistant's zeroconf instance, the HTTP
    clients) lives there, so real mDNS flows without touching the host's network. List it
    before the fixtures that open sockets. Skips where namespaces are not available.
    """
    if not hasattr(os, "setns") or not os.path.exists("/proc/thread-self/ns/net"):
        pytest.skip("this platform has no network namespaces")
    if os.geteuid() != 0:
        pytest.skip("network namespaces need root")
    if shutil.which("ip") is None:
        pytest.skip("the ip tool (iproute2) is not installed")
    name = f"ewelink-ha-{uuid.uuid4().hex[:8]}"
    created = _ip("netns", "add", name)
    if created.returncode != 0:
        pytest.skip(f"cannot create a network namespace: {created.stderr.strip()}")
    original = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
    try:
        for args in (
            ["link", "set", "lo", "up"],
            ["link", "set", "lo", "multicast", "on"],
            ["route", "add", "224.0.0.0/4", "dev", "lo"],
        ):
            done = _ip("-n", name, *args)
            if done.returncode != 0:
                pytest.skip(
                    f"cannot set up the namespace ({' '.join(args)}): {done.stderr.strip()}"
                )
        target = os.open(f"/run/netns/{name}", os.O_RDONLY)
        try:
            os.setns(target, os.CLONE_NEWNET)
        except OSError as err:
            pytest.skip(f"cannot enter the namespace: {err}")
        finally:
            os.close(target)
        try:
            yield name
        finally:
            os.setns(original, os.CLONE_NEWNET)
    finally:
        os.close(original)
        _ip("netns", "del", name)
