"""What the integration knows of devices on the LAN (lan-protocol.md §2.5, §7, §8).

`LanRegistry.handle(announcement, devicekey)` is the one call per announcement: it classifies
the record (`SeqTracker`), reads its params when fresh, remembers where the device listens and
when it was last heard. Commands ask `target(deviceid, devicekey)` and report back with
`command_succeeded` / `command_failed`; liveness follows SonoffLAN's rules (a fresh
announcement means local-online; ping after 59 s of silence; three failures in a row mean
local-offline), plus a ping every 5 minutes of a device that went local-offline.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
import time
from typing import Any

from .announcement import Announcement
from .client import LanReply, LanTarget
from .errors import LanConnectionError, LanDecryptError, LanError, LanKeyRequiredError
from .freshness import Freshness, SeqTracker

PING_AFTER = 59.0
"""Seconds of silence after which a device is pinged (`getState`)."""
MAX_FAILURES = 3
"""Consecutive failed requests after which a device is no longer local."""
RETRY_OFFLINE = 300.0
"""Seconds between pings of a device that stopped answering on the LAN."""


@dataclass(frozen=True, slots=True)
class LanUpdate:
    """The outcome of one announcement."""

    deviceid: str
    subdevid: str | None
    freshness: Freshness
    params: dict[str, Any] = field(default_factory=dict, repr=False)
    """Params to merge into the cached state (never replace it); empty when not fresh."""
    error: LanError | None = None
    """Why fresh params could not be read (LanKeyRequiredError, LanDecryptError)."""

    @property
    def device(self) -> str:
        """Return the device the params belong to: the sub-unit, else the device."""
        return self.subdevid or self.deviceid


@dataclass(slots=True)
class LanPeer:
    """One device heard on the LAN."""

    deviceid: str
    host: str | None
    port: int
    encrypted: bool
    local_type: str | None
    last_seen: float
    """`time.monotonic()` of the last announcement or successful request."""
    seq: int | None = None
    failures: int = 0
    """Consecutive failed requests (reset by a fresh announcement or any answer)."""
    last_failure: float = float("-inf")
    last_error: str | None = None

    @property
    def local(self) -> bool:
        """Return True when commands should go over the LAN first."""
        return self.host is not None and self.failures < MAX_FAILURES


class LanRegistry:
    """Per-device LAN state of one integration instance."""

    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        """Start empty; `clock` returns monotonic seconds (tests may pass their own)."""
        self._clock = clock
        self._peers: dict[str, LanPeer] = {}
        self.tracker = SeqTracker()

    def handle(self, announcement: Announcement, devicekey: str | None) -> LanUpdate:
        """Take one announcement: classify it, update the peer, read its params when fresh.

        `devicekey` is the thing list's key of `announcement.deviceid` (None if unknown; not
        needed for DIY devices that announce in plaintext). Duplicate and stale records (a
        cache re-delivering) neither carry state nor prove that the device is alive.
        """
        freshness = self.tracker.check(announcement)
        if not freshness.is_fresh:
            return LanUpdate(announcement.deviceid, announcement.subdevid, freshness)
        now = self._clock()
        peer = self._peers.get(announcement.deviceid)
        if peer is None:
            peer = self._peers[announcement.deviceid] = LanPeer(
                announcement.deviceid,
                announcement.host,
                announcement.port,
                announcement.encrypted,
                announcement.local_type,
                now,
            )
        else:
            peer.host = announcement.host or peer.host
            peer.port = announcement.port
            peer.encrypted = announcement.encrypted
            peer.local_type = announcement.local_type or peer.local_type
            peer.last_seen = now
        peer.failures = 0
        if announcement.subdevid is None:
            peer.seq = announcement.seq
        if not announcement.has_data:
            return LanUpdate(announcement.deviceid, announcement.subdevid, freshness)
        try:
            params = announcement.params(devicekey)
        except (LanKeyRequiredError, LanDecryptError) as err:
            peer.last_error = type(err).__name__
            return LanUpdate(announcement.deviceid, announcement.subdevid, freshness, error=err)
        return LanUpdate(announcement.deviceid, announcement.subdevid, freshness, params)

    def peer(self, deviceid: str) -> LanPeer | None:
        """Return what is known of a device on the LAN."""
        return self._peers.get(deviceid)

    def is_local(self, deviceid: str) -> bool:
        """Return True when the device was heard on the LAN and answers there."""
        peer = self._peers.get(deviceid)
        return peer is not None and peer.local

    def target(
        self, deviceid: str, devicekey: str | None, *, force: bool = False
    ) -> LanTarget | None:
        """Return where to send a command, or None when the LAN cannot be used for it now.

        `force` also returns the last address of a device that is not local any more (to ping
        it, see `due_for_ping`).
        """
        peer = self._peers.get(deviceid)
        if peer is None or peer.host is None or not (peer.local or force):
            return None
        if peer.encrypted and not devicekey:
            return None
        return LanTarget(deviceid, peer.host, peer.port, devicekey if peer.encrypted else None)

    def command_succeeded(
        self, deviceid: str, reply: LanReply, subdevid: str | None = None
    ) -> dict[str, Any]:
        """Record an answer; return the new state it carried (to merge), else an empty dict."""
        peer = self._peers.get(deviceid)
        if peer is not None:
            peer.failures = 0
            peer.last_seen = self._clock()
            peer.last_error = None
        if reply.params is None:
            return {}
        if reply.command not in ("info", "signal_strength"):
            self.tracker.note_reply(deviceid, reply.seq, subdevid)
        return dict(reply.params)

    def command_failed(self, deviceid: str, error: LanError) -> None:
        """Record a failed request; only connection errors count towards local-offline."""
        peer = self._peers.get(deviceid)
        if peer is None:
            return
        peer.last_error = type(error).__name__
        peer.last_failure = self._clock()
        if isinstance(error, LanConnectionError):
            peer.failures += 1

    def due_for_ping(
        self, after: float = PING_AFTER, offline_after: float = RETRY_OFFLINE
    ) -> list[str]:
        """Return the devices to ping now (`LanClient.ping` on `target(..., force=True)`).

        Local devices silent for `after` seconds, and devices that stopped answering whose last
        failure is `offline_after` seconds old (they may be back without announcing).
        """
        now = self._clock()
        due: list[str] = []
        for deviceid, peer in self._peers.items():
            if peer.local:
                if now - max(peer.last_seen, peer.last_failure) >= after:
                    due.append(deviceid)
            elif peer.host is not None and now - peer.last_failure >= offline_after:
                due.append(deviceid)
        return due

    def forget(self, deviceid: str) -> None:
        """Forget a device (removed, or its devicekey changed)."""
        self._peers.pop(deviceid, None)
        self.tracker.forget(deviceid)

    def diagnostics(self) -> dict[str, dict[str, Any]]:
        """Return per-device LAN facts for diagnostics (no keys, no params)."""
        now = self._clock()
        return {
            d: {
                "host": p.host,
                "port": p.port,
                "encrypted": p.encrypted,
                "type": p.local_type,
                "seq": p.seq,
                "seconds_since_seen": round(now - p.last_seen, 1),
                "failures": p.failures,
                "local": p.local,
                "last_error": p.last_error,
            }
            for d, p in self._peers.items()
        }
