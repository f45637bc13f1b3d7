"""Order what two paths (LAN and cloud) report about the same device.

A device on the LAN reports every change twice: in its mDNS announcement (milliseconds) and in
its cloud `update`, which reaches Home Assistant 0.1-1 s later. Each path is ordered on its own
(LAN records by `seq`, cloud pushes by arrival), but between them only content can tell which
copy is late. The arbiter keeps, per device and per *leaf* (a param, or one field of one
channel of `switches`/`configure`/`pulses`), the values each path delivered in the last
`ECHO_WINDOW` seconds, and for every new report:

* a cloud leaf whose value the LAN delivered within the window while the device's current
  value differs is a late copy of a superseded state: it is dropped, so the cloud cannot roll
  the state back (switch on, then off over the LAN, then the cloud's copy of "on" arrives).
  LAN reports are never late (milliseconds, in the device's `seq` order), and a path that
  reported another value since the other path's copy reports news;
* a leaf whose value the other path already delivered and that is still current is an echo:
  it is merged (a no-op) but not handed to push listeners, so one button press fires once
  whichever path brings it first;
* everything else is news.

Echoes are not remembered, so a second press that repeats the same value is news again on the
path that brings it first. Only devices that a LAN path reaches are tracked.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
import time
from typing import Any, Final

ECHO_WINDOW: Final = 3.0
"""Seconds a delivered value can come back as the other path's late copy (cloud latency)."""
SOURCE_LAN: Final = "lan"
"""The source name of LAN reports (lan_control.py reports under it)."""
HISTORY: Final = 4
"""Values remembered per leaf."""
CHANNEL_ARRAYS: Final = frozenset({"switches", "configure", "pulses"})

type Leaf = str | tuple[str, int, str]


@dataclass(frozen=True, slots=True)
class _Delivery:
    at: float
    source: str
    value: Any


@dataclass(frozen=True, slots=True)
class Verdict:
    """What to do with one report: the params to merge and the news for push listeners."""

    apply: dict[str, Any]
    news: dict[str, Any]
    dropped: int = 0


def leaves(params: Mapping[str, Any]) -> dict[Leaf, Any]:
    """Return the leaves of params: channel-array fields per outlet, other params whole."""
    out: dict[Leaf, Any] = {}
    for key, value in params.items():
        if key in CHANNEL_ARRAYS and type(value) is list:
            for item in value:
                if type(item) is dict and type(outlet := item.get("outlet")) is int:
                    for name, field in item.items():
                        if name != "outlet":
                            out[(key, outlet, name)] = field
        else:
            out[key] = value
    return out


def _current(state: Mapping[str, Any], leaf: Leaf) -> Any:
    if isinstance(leaf, str):
        return state.get(leaf, _MISSING)
    key, outlet, name = leaf
    items = state.get(key)
    if type(items) is list:
        for item in items:
            if type(item) is dict and item.get("outlet") == outlet:
                return item.get(name, _MISSING)
    return _MISSING


def _without(params: Mapping[str, Any], removed: set[Leaf]) -> dict[str, Any]:
    """Return params without the removed leaves (channel items keep their other fields)."""
    out: dict[str, Any] = {}
    for key, value in params.items():
        if key in removed:
            continue
        if key in CHANNEL_ARRAYS and type(value) is list:
            items = []
            for item in value:
                if type(item) is not dict or type(outlet := item.get("outlet")) is not int:
                    continue
                kept = {
                    name: field
                    for name, field in item.items()
                    if name == "outlet" or (key, outlet, name) not in removed
                }
                if len(kept) > 1:
                    items.append(kept)
            if items:
                out[key] = items
            continue
        out[key] = value
    return out


_MISSING: Final = object()


class SourceArbiter:
    """Per-device memory of what each path delivered lately (see the module docstring)."""

    def __init__(
        self,
        clock: Callable[[], float] = time.monotonic,
        prompt: frozenset[str] = frozenset({SOURCE_LAN}),
    ) -> None:
        """Start empty; `clock` returns monotonic seconds.

        Reports of `prompt` sources are never late copies: the LAN's come in milliseconds and in
        the device's own `seq` order, so what they say is the device's state now (their echoes
        of the cloud are still no news).
        """
        self._clock = clock
        self._prompt = prompt
        self._log: dict[str, dict[Leaf, deque[_Delivery]]] = {}

    def judge(
        self, deviceid: str, source: str, params: Mapping[str, Any], state: Mapping[str, Any]
    ) -> Verdict:
        """Judge a report of `source` against the device's current `state`; remember it."""
        now = self._clock()
        log = self._log.setdefault(deviceid, {})
        late: set[Leaf] = set()
        echoes: set[Leaf] = set()
        delivered: list[tuple[Leaf, Any]] = []
        for leaf, value in leaves(params).items():
            history = log.get(leaf)
            if history and _copied(history, source, value, now):
                if _same(_current(state, leaf), value):
                    echoes.add(leaf)
                    continue
                if source not in self._prompt:
                    late.add(leaf)
                    continue
            delivered.append((leaf, value))
        for leaf, value in delivered:
            history = log.get(leaf)
            if history is None:
                history = log[leaf] = deque(maxlen=HISTORY)
            history.append(_Delivery(now, source, value))
        if not late and not echoes:
            plain = dict(params)
            return Verdict(plain, plain)
        apply = _without(params, late) if late else dict(params)
        return Verdict(apply, _without(apply, echoes), len(late))

    def forget(self, deviceid: str) -> None:
        """Forget a device (no longer reached by the LAN, or removed)."""
        self._log.pop(deviceid, None)

    def prune(self) -> None:
        """Drop what is older than the window (called now and then)."""
        horizon = self._clock() - ECHO_WINDOW
        for deviceid in list(self._log):
            log = self._log[deviceid]
            for leaf in [leaf for leaf, history in log.items() if history[-1].at < horizon]:
                del log[leaf]
            if not log:
                del self._log[deviceid]


def _copied(history: deque[_Delivery], source: str, value: object, now: float) -> bool:
    """Return True when the other path delivered `value` lately and `source` has not changed
    the leaf since: a path orders its own reports, so a value it reports after reporting
    another one is news even if the other path had it before (off over the LAN, then on)."""
    copied = False
    for d in history:  # oldest first
        if d.source != source and now - d.at <= ECHO_WINDOW and _same(d.value, value):
            copied = True
        elif d.source == source and copied and not _same(d.value, value):
            copied = False
    return copied


def _same(a: object, b: object) -> bool:
    """Return True for equal values of the same type (1 == True, yet they differ)."""
    return a == b and type(a) is type(b)
