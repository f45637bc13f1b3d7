"""One mDNS browser and one LAN client per Home Assistant, shared by every eWeLink entry.

The browser runs on Home Assistant's shared zeroconf instance (no second mDNS stack) while at
least one entry listens, and hands each announcement to every listener; each entry picks its
own devices. A listener that joins later (an entry set up or reloaded) gets the latest
announcement of every device at once, as a fresh browser would from the cache (the entry's
registry judges them as first records: they may be old). The client is
shared so that requests to one device are serialised and spaced whichever entry sends them.

`discovery.feed()` is the seam for announcements that do not come from the browser (tests feed
the simulator's in-process announcements there).
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Callable, Coroutine
from typing import Any

from homeassistant.components import zeroconf
from homeassistant.const import EVENT_HOMEASSISTANT_STOP
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.util.hass_dict import HassKey

from .const import DOMAIN, LOGGER
from .lan import Announcement, LanClient, LanDiscovery

type AnnouncementListener = Callable[[Announcement], None]

DATA_HUB: HassKey[LanHub] = HassKey(f"{DOMAIN}_lan_hub")
MAX_REMEMBERED = 2048
"""Latest announcements kept for listeners that join later (one per device and sub-unit)."""


@callback
def async_get_hub(hass: HomeAssistant) -> LanHub:
    """Return the hub of this Home Assistant (created on first use)."""
    if (hub := hass.data.get(DATA_HUB)) is None:
        hub = hass.data[DATA_HUB] = LanHub(hass)
    return hub


class LanHub:
    """The shared browser, client and latest announcements."""

    def __init__(self, hass: HomeAssistant) -> None:
        """Create the browser (not started) and the client on Home Assistant's web session."""
        self.hass = hass
        self.discovery = LanDiscovery(self._dispatch)
        self.client = LanClient(async_get_clientsession(hass))
        self.mdns_error: str | None = None
        self._listeners: list[AnnouncementListener] = []
        self._latest: OrderedDict[tuple[str, str | None], Announcement] = OrderedDict()
        self._lock = asyncio.Lock()
        hass.bus.async_listen_once(EVENT_HOMEASSISTANT_STOP, self._async_stop_event)

    @property
    def listening(self) -> int:
        """Return how many entries listen."""
        return len(self._listeners)

    def latest(self, deviceid: str) -> list[Announcement]:
        """Return the latest announcements of a device (the device's, then its sub-units')."""
        return [ann for key, ann in self._latest.items() if key[0] == deviceid]

    async def async_subscribe(
        self, listener: AnnouncementListener
    ) -> Callable[[], Coroutine[Any, Any, None]]:
        """Call `listener` with every announcement (the latest ones at once); start browsing.

        Returns the coroutine function that unsubscribes (and stops browsing after the last).
        """
        self._listeners.append(listener)
        for announcement in list(self._latest.values()):
            listener(announcement)
        async with self._lock:
            if self._listeners and not self.discovery.running:
                await self._async_start()

        async def unsubscribe() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)
            async with self._lock:
                if not self._listeners and self.discovery.running:
                    await self.discovery.async_stop()

        return unsubscribe

    async def _async_start(self) -> None:
        try:
            instance = await zeroconf.async_get_async_instance(self.hass)
            await self.discovery.async_start(instance)
        except (OSError, RuntimeError, ValueError) as err:
            # No multicast on this host: LAN control works once something feeds announcements.
            self.mdns_error = type(err).__name__
            LOGGER.warning("eWeLink devices cannot be discovered on the LAN: %s", err)
        else:
            self.mdns_error = None
            LOGGER.debug("Browsing for eWeLink devices on the LAN")

    async def _async_stop_event(self, _event: Event) -> None:
        async with self._lock:
            await self.discovery.async_stop()

    @callback
    def _dispatch(self, announcement: Announcement) -> None:
        key = announcement.key
        self._latest.pop(key, None)
        self._latest[key] = announcement
        while len(self._latest) > MAX_REMEMBERED:
            self._latest.popitem(last=False)
        for listener in list(self._listeners):
            try:
                listener(announcement)
            except Exception:  # noqa: BLE001  one entry must not stop the others
                LOGGER.debug("A LAN listener failed on %s", announcement.deviceid, exc_info=True)
