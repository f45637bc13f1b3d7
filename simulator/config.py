"""Configuration of the simulator (every timing is configurable so tests can run fast)."""

from __future__ import annotations

from dataclasses import dataclass, field

REGIONS: tuple[str, ...] = ("cn", "as", "us", "eu")


@dataclass(slots=True)
class SimulatorConfig:
    """Knobs of one simulator instance.

    Defaults follow coolkit-cloud.md (hbInterval 145 s, at 30 days, rt 60 days, OAuth codes 30 s,
    500 ms / 300 per 5 min rate limits). Tests shrink the timings.
    """

    host: str = "127.0.0.1"
    port: int = 0
    advertise_host: str | None = None
    """Host given to clients in dispatch answers (default: `host`, or 127.0.0.1 for 0.0.0.0)."""
    regions: tuple[str, ...] = REGIONS

    # Tokens and OAuth.
    at_lifetime: float = 30 * 86400.0
    rt_lifetime: float = 60 * 86400.0
    oauth_code_ttl: float = 30.0

    # Websocket.
    hb_interval: int = 145
    idle_timeout: float | None = None
    """Silence after which a socket is dropped; None means `hb_interval + 15`."""
    handshake_timeout: float = 10.0
    device_ack_timeout: float = 5.0
    offline_command_error: int = 503
    reaper_interval: float | None = None
    """How often silent sockets are looked for; None means min(1 s, idle_timeout / 4)."""

    # REST rate limits (coolkit-cloud.md §11).
    rate_limit: bool = True
    rate_min_interval: float = 0.5
    rate_window: float = 300.0
    rate_max_calls: int = 300

    # Virtual devices.
    device_register_retry: float = 1.0
    """Seconds between `register` attempts of a device that is not bound to an account yet."""
    device_ping_interval: float | None = None
    """Protocol ping period of virtual devices; None means half the hbInterval they are given."""
    device_reconnect_delay: float = 1.0
    device_connect_concurrency: int = 64
    drift: bool = False
    """Simulated measurement drift (power, temperature...); off by default for determinism."""
    drift_interval: float = 20.0

    # LAN (lan-protocol.md): devices serve `/zeroconf/<cmd>` and announce themselves.
    lan: bool = False
    """Give every LAN-capable device (by UIID) its LAN side when it is added."""
    lan_host: str = "127.0.0.1"
    lan_mdns: bool = False
    """Also publish the announcements as real mDNS (python-zeroconf) when the simulator starts."""
    lan_mdns_interfaces: list[str] = field(default_factory=lambda: ["127.0.0.1"])

    # ESP-Touch.
    esptouch_ack_count: int = 30
    esptouch_ack_interval: float = 0.1

    # Server.
    shutdown_timeout: float = 2.0
    log_frames: bool = False
    extra: dict[str, object] = field(default_factory=dict)

    @property
    def effective_idle_timeout(self) -> float:
        """Return the silence (seconds) after which a websocket is considered dead."""
        if self.idle_timeout is not None:
            return self.idle_timeout
        return float(self.hb_interval) + 15.0

    @property
    def effective_reaper_interval(self) -> float:
        """Return the period of the idle-socket reaper."""
        if self.reaper_interval is not None:
            return self.reaper_interval
        return max(0.05, min(1.0, self.effective_idle_timeout / 4))

    @property
    def public_host(self) -> str:
        """Return the host clients are told to connect to."""
        if self.advertise_host:
            return self.advertise_host
        if self.host in ("0.0.0.0", "", "::"):
            return "127.0.0.1"
        return self.host
