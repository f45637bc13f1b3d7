"""Is an announcement newer than what we have? (`seq` and duplicate handling, quirks Q8, Q9.)

A device counts `seq` up on every state change and restarts at 1 when it boots. A DNS-SD
browser can deliver a record twice (same IV, or the same plaintext) or re-deliver an older one
from a cache. The tracker remembers, per device and sub-unit, the highest `seq` applied and the
fingerprints (IV, or `seq` + data for plaintext) of the last few records:

* a fingerprint seen before is never fresh: DUPLICATE at the current `seq`, STALE otherwise
  (also a pre-reboot record with a higher `seq` than the restarted counter);
* first record: NEW; a higher `seq`: NEWER;
* the current `seq` with a new fingerprint: SAME (re-encrypted; or a reboot that landed on the
  same count, so its state is merged all the same);
* a lower `seq` never seen before: REBOOT (the counter restarted).

Fresh records (NEW, NEWER, REBOOT, SAME) carry state to merge; DUPLICATE and STALE only prove
the device is alive. Only NEWER and REBOOT report a change since a record already seen: event
keys (button presses, RF triggers) in NEW and SAME records may be replays (Q8).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from enum import StrEnum
import hashlib

from .announcement import Announcement

HISTORY = 16
"""Fingerprints remembered per device (a browser re-delivers only recent records)."""


class Freshness(StrEnum):
    """How an announcement relates to the previous ones of the same device."""

    NEW = "new"
    NEWER = "newer"
    REBOOT = "reboot"
    SAME = "same"
    DUPLICATE = "duplicate"
    STALE = "stale"

    @property
    def is_fresh(self) -> bool:
        """Return True when the announcement's params should be merged."""
        return self not in (Freshness.DUPLICATE, Freshness.STALE)

    @property
    def is_change(self) -> bool:
        """Return True when the device changed since a record already seen (events are new)."""
        return self in (Freshness.NEWER, Freshness.REBOOT)


@dataclass(slots=True)
class _State:
    seq: int | None = None
    seen: deque[str] = field(default_factory=lambda: deque(maxlen=HISTORY))


type Key = tuple[str, str | None]


class SeqTracker:
    """Classify announcements per (device, sub-unit) and remember the applied `seq`."""

    def __init__(self) -> None:
        """Start with no device known."""
        self._states: dict[Key, _State] = {}

    def check(self, announcement: Announcement) -> Freshness:
        """Classify an announcement and remember it."""
        state = self._states.setdefault(announcement.key, _State())
        fingerprint = _fingerprint(announcement)
        verdict = _classify(state, announcement.seq, fingerprint)
        if fingerprint not in state.seen:
            state.seen.append(fingerprint)
        if verdict.is_fresh and announcement.seq is not None:
            state.seq = announcement.seq
        return verdict

    def note_reply(self, deviceid: str, seq: int | None, subdevid: str | None = None) -> None:
        """Record the `seq` of a command reply that carried the new state (already merged).

        The announcement of the same `seq` that follows then reads as SAME (merged, not a
        change). Call it only when the reply had params: after a reply without them, that
        announcement is the first to carry the new state and must read as NEWER.
        """
        if seq is None:
            return
        state = self._states.setdefault((deviceid, subdevid), _State())
        if state.seq is None or seq > state.seq:
            state.seq = seq

    def last_seq(self, deviceid: str, subdevid: str | None = None) -> int | None:
        """Return the highest `seq` applied for a device (or sub-unit)."""
        state = self._states.get((deviceid, subdevid))
        return state.seq if state is not None else None

    def forget(self, deviceid: str) -> None:
        """Forget a device and its sub-units (removed device, new devicekey)."""
        for key in [k for k in self._states if k[0] == deviceid]:
            del self._states[key]


def _fingerprint(announcement: Announcement) -> str:
    if announcement.iv:
        return "iv:" + announcement.iv
    digest = hashlib.sha256(announcement.data.encode()).hexdigest()[:16]
    return f"seq:{announcement.seq}:{digest}"


def _classify(state: _State, seq: int | None, fingerprint: str) -> Freshness:
    if fingerprint in state.seen:
        # A record already processed is never fresh, whatever its seq (also after a reboot).
        same = seq is None or state.seq is None or seq == state.seq
        return Freshness.DUPLICATE if same else Freshness.STALE
    if state.seq is None and not state.seen:
        return Freshness.NEW
    if seq is None or state.seq is None or seq > state.seq:
        return Freshness.NEWER
    if seq == state.seq:
        return Freshness.SAME
    return Freshness.REBOOT
