"""Fault-injection knobs (coolkit-cloud.md §15, "Fault-injection knobs").

Every knob is off by default. Tests set them on `sim.faults` directly; the admin API
(`POST /_sim/faults`) sets them from JSON. Per-device faults (`ack_delay`, `drop_acks`, `echo`)
live on the virtual devices; the global ones here apply to every device. Timed knobs
(`refuse_ws_seconds`, `rest_412_seconds`, `quota_403_seconds`) take a duration and end by
themselves.

Faults that are actions rather than settings are methods of the simulator (each also an admin
route): `drop_app_sockets(code)` (1000 clean, 1006 abrupt), `half_open_app_sockets()`,
`kick_session(account, appid, keep_refresh=...)` (takeover with or without revoked tokens),
`expire_tokens(account, appid, access=..., refresh=..., close=...)` (at / rt expiry), and
`VirtualDevice.go_offline()` / `go_online()`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
import time
from typing import Any, Literal

QuotaMode = Literal["http403", "412"]
ThingListMaxMode = Literal["error500", "http500", "truncate", "timeout"]


@dataclass(slots=True)
class Faults:
    """Global fault knobs of one simulator."""

    force_region_redirect: str | None = None
    """Login (and verification-code) answer 10004 with this region."""
    force_region_redirect_once: bool = True
    """Clear `force_region_redirect` after it fired once."""
    reject_signature: bool = False
    """Every Sign-authenticated call answers 400 "sign verification failed"."""
    takeover_keeps_refresh: bool = False
    """A login elsewhere (or `kick_session`) revokes only the at, as §3.4 literally says; the old
    rt still refreshes, which takes the session back and kicks the other client [inf]."""
    login_elsewhere_after_refresh: int = 0
    """The next N refreshes are followed at once by a login elsewhere (another client racing
    for the session): the renewed at is revoked (or displaced, see `takeover_keeps_refresh`)."""
    appid_no_password_login: bool = False
    """Every app ID answers 407 on password login."""
    ws_expired_at_error: int = 406
    """What `userOnline` answers for an expired (not revoked) access token: 406 as observed;
    401 or 402 as other CoolKit answers for a dead token would say (coolkit-cloud.md §4)."""
    appid_expired: bool = False
    """Every REST call answers 408 "appid has expired" with `data: null`."""
    quota_exhausted: QuotaMode | None = None
    """Monthly quota exhausted: HTTP 403 without an envelope, or error 412."""
    http_error: dict[str, int] = field(default_factory=dict)
    """Plain HTTP error status per path (region prefix stripped, e.g. "/v2/device/thing"; "*" = all)."""
    http_error_times: dict[str, int] = field(default_factory=dict)
    """Optional remaining count per `http_error` path (absent = until cleared)."""
    api_error: dict[str, int] = field(default_factory=dict)
    """Envelope error code per path (HTTP 200, `{"error": code, "msg": "injected", "data": {}}`)."""
    api_error_times: dict[str, int] = field(default_factory=dict)
    """Optional remaining count per `api_error` path (absent = until cleared)."""
    thing_list_max: int | None = None
    """Thing lists asked for more than this many items without paging (num=0 or num > max, in a
    home holding more) fail as `thing_list_max_mode` says."""
    thing_list_max_mode: ThingListMaxMode = "error500"
    """How an oversized thing list fails: "error500" (envelope error 500 over HTTP 200),
    "http500" (a plain HTTP 500), "truncate" (only the first `thing_list_max` items, with the
    full `total`), or "timeout" (no answer for `thing_list_timeout` seconds, then HTTP 504)."""
    thing_list_timeout: float = 60.0
    oauth_profile_denied: bool = False
    """OAuth-only app IDs get 407 on GET /v2/user/profile (the reference suspects this)."""
    latency: float = 0.0
    """Seconds added before every REST and dispatch answer."""
    ignore_ping: bool = False
    """App sockets get no `pong` (text) and no protocol pong."""
    ack_delay: float = 0.0
    """Extra delay (seconds) before every virtual device acks an app command."""
    drop_acks: bool = False
    """Virtual devices never ack app commands (504 after the timeout)."""
    no_echo_after_update: bool = False
    """Virtual devices do not send their state `update` after acking a command."""
    partial_switches: bool = False
    """Pushes of `switches`/`configure`/`pulses` carry only the changed channels."""
    subdev_rssi_127: bool = False
    """Push `{"subDevRssi":127}` for a zigbee child that went offline."""
    th_glitch: bool = False
    """Temperature drift sometimes reports 0, -273 or "unavailable"."""
    numeric_sequence: bool = False
    """Acks carry `sequence` as a number; pushes carry a `seq` string."""
    replay_events: bool = False
    """After reconnecting, a device re-sends its last button/motion event with the same trigTime."""
    notify_noise: bool = False
    """Interleave `notify` and `reportSubDevice` frames with the pushes."""
    params_as_strings: bool = False
    """Devices send numeric params as strings."""
    raw_answers: dict[str, list[tuple[int, bytes]]] = field(default_factory=dict)
    """Answers served as they are, in order, one per call of the path (region prefix stripped):
    `(HTTP status, body)`, any bytes (hostile answers for the fuzz suite; not settable from
    the admin API)."""
    _refuse_ws_until: float = 0.0
    _rest_412_until: float = 0.0
    _quota_403_until: float = 0.0

    @property
    def refuse_ws_seconds(self) -> float:
        """Return how many seconds websocket upgrades are still refused."""
        return max(0.0, self._refuse_ws_until - time.monotonic())

    @refuse_ws_seconds.setter
    def refuse_ws_seconds(self, seconds: float) -> None:
        """Refuse websocket upgrades (HTTP 503) for the next `seconds`."""
        self._refuse_ws_until = time.monotonic() + max(0.0, float(seconds))

    @property
    def rest_412_seconds(self) -> float:
        """Return how many seconds of the 412 storm are left."""
        return max(0.0, self._rest_412_until - time.monotonic())

    @rest_412_seconds.setter
    def rest_412_seconds(self, seconds: float) -> None:
        """A 412 storm: every REST call answers error 412 ("request too frequent") for `seconds`."""
        self._rest_412_until = time.monotonic() + max(0.0, float(seconds))

    @property
    def quota_403_seconds(self) -> float:
        """Return how many seconds of the quota outage are left."""
        return max(0.0, self._quota_403_until - time.monotonic())

    @quota_403_seconds.setter
    def quota_403_seconds(self, seconds: float) -> None:
        """Every REST call answers HTTP 403 without an envelope (quota) for `seconds`."""
        self._quota_403_until = time.monotonic() + max(0.0, float(seconds))

    def fail_next(self, path: str, status: int = 500, times: int = 1) -> None:
        """Answer the next `times` calls of `path` with HTTP `status` (see `api_error_next`)."""
        self.http_error[path] = status
        self.http_error_times[path] = times

    def api_error_next(self, path: str, error: int, times: int = 1) -> None:
        """Answer the next `times` calls of `path` with envelope error `error`."""
        self.api_error[path] = error
        self.api_error_times[path] = times

    def http_error_for(self, *paths: str) -> int | None:
        """Return the injected HTTP status for a path (and count it down).

        A call is matched by its region-less path (`/v2/family`), its full path (`/eu/v2/family`)
        or `*`.
        """
        return _take(self.http_error, self.http_error_times, paths)

    def api_error_for(self, *paths: str) -> int | None:
        """Return the injected envelope error code for a path (and count it down)."""
        return _take(self.api_error, self.api_error_times, paths)

    def raw_answer_for(self, path: str) -> tuple[int, bytes] | None:
        """Return (and consume) the next raw answer queued for a path."""
        queued = self.raw_answers.get(path)
        if not queued:
            return None
        answer = queued.pop(0)
        if not queued:
            del self.raw_answers[path]
        return answer

    def as_dict(self) -> dict[str, Any]:
        """Return the knobs as JSON-friendly values."""
        out: dict[str, Any] = {}
        for f in fields(self):
            if f.name.startswith("_") or f.name == "raw_answers":
                continue
            out[f.name] = getattr(self, f.name)
        for name in _TIMED:
            out[name] = round(getattr(self, name), 3)
        return out

    def update(self, values: dict[str, Any]) -> None:
        """Set knobs from a JSON object; unknown names raise KeyError (`raw_answers` is
        Python-only: its bodies are bytes)."""
        names = {f.name for f in fields(self) if not f.name.startswith("_")} - {"raw_answers"}
        for key, value in values.items():
            if key in _TIMED:
                setattr(self, key, float(value))
            elif key in names:
                setattr(self, key, value)
            else:
                raise KeyError(key)

    def reset(self) -> None:
        """Turn every knob off."""
        fresh = Faults()
        for f in fields(self):
            setattr(self, f.name, getattr(fresh, f.name))


_TIMED = ("refuse_ws_seconds", "rest_412_seconds", "quota_403_seconds")


def _take(table: dict[str, int], times: dict[str, int], paths: tuple[str, ...]) -> int | None:
    for key in (*paths, "*"):
        value = table.get(key)
        if value is None:
            continue
        remaining = times.get(key)
        if remaining is not None:
            if remaining <= 1:
                del table[key]
                del times[key]
            else:
                times[key] = remaining - 1
        return value
    return None
