"""Discovery of eWeLink devices over mDNS (`_ewelink._tcp.local.`, lan-protocol.md §2.5).

`LanDiscovery` browses on a python-zeroconf instance it is given (Home Assistant passes its
shared one: no second mDNS stack), resolves each added or updated `eWeLink_*` service and calls
back with an `Announcement`. Removals are ignored (records expire while devices are fine). When
the A record is missing (some devices send it about hourly, Q2), the last known address of the
device is used. `feed()` is the seam: tests and other sources hand it what a browser resolves.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Mapping
import contextlib
import dataclasses
import logging
from typing import Any

from zeroconf import IPVersion, ServiceStateChange, Zeroconf
from zeroconf.asyncio import AsyncServiceBrowser, AsyncServiceInfo, AsyncZeroconf

from .announcement import Announcement, Properties, device_id_from_name, parse_announcement
from .const import RESOLVE_TIMEOUT, SERVICE_TYPE

_LOGGER = logging.getLogger(__name__)

type AnnouncementCallback = Callable[[Announcement], None]


class LanDiscovery:
    """Browse `_ewelink._tcp.local.` and call back with every valid announcement."""

    def __init__(
        self, on_announcement: AnnouncementCallback, *, resolve_timeout: float = RESOLVE_TIMEOUT
    ) -> None:
        """Call `on_announcement` (in the event loop) for every announcement."""
        self._callback = on_announcement
        self.resolve_timeout = resolve_timeout
        self._zeroconf: Zeroconf | None = None
        self._browser: AsyncServiceBrowser | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._resolving: dict[str, asyncio.Task[None]] = {}
        self._again: set[str] = set()
        self._last_address: dict[str, str] = {}
        self.stats: dict[str, int] = dict.fromkeys(
            ("announcements", "ignored", "invalid", "unresolved", "address_fallbacks"), 0
        )

    @property
    def running(self) -> bool:
        """Return True while browsing."""
        return self._browser is not None

    def last_address(self, deviceid: str) -> str | None:
        """Return the last address a device was seen at."""
        return self._last_address.get(deviceid)

    async def async_start(self, zc: Zeroconf | AsyncZeroconf) -> None:
        """Start browsing on a (shared) zeroconf instance; it is not closed by `async_stop`."""
        if self._browser is not None:
            return
        self._loop = asyncio.get_running_loop()
        self._zeroconf = zc.zeroconf if isinstance(zc, AsyncZeroconf) else zc
        self._browser = AsyncServiceBrowser(
            self._zeroconf, SERVICE_TYPE, handlers=[self._on_service_state_change]
        )

    async def async_stop(self) -> None:
        """Stop browsing and cancel the resolutions under way."""
        browser, self._browser = self._browser, None
        if browser is not None:
            await browser.async_cancel()
        tasks = list(self._resolving.values())
        self._resolving.clear()
        self._again.clear()
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._zeroconf = None

    def feed(
        self,
        name: str,
        addresses: Iterable[str | bytes],
        port: int | None,
        properties: Properties,
    ) -> Announcement | None:
        """Handle one resolved service (the seam): parse, fill a missing address, call back."""
        announcement = parse_announcement(name, addresses, port, properties)
        if announcement is None:
            self.stats["invalid"] += 1
            return None
        if announcement.host is None:
            known = self._last_address.get(announcement.deviceid)
            if known is not None:
                self.stats["address_fallbacks"] += 1
                announcement = dataclasses.replace(announcement, host=known)
        else:
            self._last_address[announcement.deviceid] = announcement.host
        self.stats["announcements"] += 1
        self._callback(announcement)
        return announcement

    # Zeroconf side ---------------------------------------------------------------------------
    def _on_service_state_change(
        self,
        zeroconf: Zeroconf,
        service_type: str,
        name: str,
        state_change: ServiceStateChange,
    ) -> None:
        """Browser handler (keyword arguments; may run in zeroconf's thread)."""
        if state_change is ServiceStateChange.Removed:
            return
        if device_id_from_name(name) is None:
            self.stats["ignored"] += 1
            return
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._schedule, service_type, name)

    def _schedule(self, service_type: str, name: str) -> None:
        if self._browser is None:
            return
        if name in self._resolving:
            self._again.add(name)  # resolve once more when the running resolution ends
            return
        task = asyncio.get_running_loop().create_task(
            self._resolve(service_type, name), name=f"ewelink-lan-resolve-{name[:40]}"
        )
        self._resolving[name] = task
        task.add_done_callback(lambda done: self._resolved(done, service_type, name))

    def _resolved(self, task: asyncio.Task[None], service_type: str, name: str) -> None:
        if self._resolving.get(name) is task:
            del self._resolving[name]
        if not task.cancelled() and (err := task.exception()) is not None:
            self.stats["unresolved"] += 1
            _LOGGER.debug("Resolving %.80s failed: %r", name, err)
        if name in self._again:
            self._again.discard(name)
            self._schedule(service_type, name)

    async def _resolve(self, service_type: str, name: str) -> None:
        zc = self._zeroconf
        if zc is None:
            return
        info = AsyncServiceInfo(service_type, name)
        complete = info.load_from_cache(zc)
        deviceid = device_id_from_name(name) or ""
        if not complete and not (info.properties and deviceid in self._last_address):
            await info.async_request(zc, int(self.resolve_timeout * 1000))
        properties: Mapping[bytes, bytes | None] | None = info.properties
        if not properties:
            self.stats["unresolved"] += 1
            _LOGGER.debug("No TXT record for %.80s", name)
            return
        addresses: list[Any] = info.parsed_addresses(IPVersion.V4Only)
        self.feed(name, addresses, info.port, properties)
