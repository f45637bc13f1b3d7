"""Constants and per-UIID facts of the eWeLink LAN protocol (lan-protocol.md §2, §4, §6, §7)."""

from __future__ import annotations

from typing import Final

SERVICE_TYPE: Final = "_ewelink._tcp.local."
DEFAULT_PORT: Final = 8081
CHUNK_SIZE: Final = 249
"""A device splits its data into `data1..N` strings of at most this many bytes (§2.3)."""
SUPPORTED_APIVERS: Final = 1
"""Data of an announcement with a higher `apivers` is not parsed (§2.2)."""
SELF_APIKEY: Final = "123"
"""What peer clients send as `selfApikey`; devices do not check it (open question 3)."""

DEFAULT_TIMEOUT: Final = 2.0
"""Seconds a command may take (queueing, retries and the answer) when the cloud is a fallback."""
LAN_ONLY_TIMEOUT: Final = 5.0
"""Seconds a command may take when there is no cloud to fall back to (SonoffLAN uses 5 s)."""
MIN_SPACING: Final = 0.2
"""Devices want >= 200 ms between requests (§4.1, DIY docs)."""
RESET_RETRIES: Final = 10
RESET_DELAY: Final = 0.1
"""A second concurrent request gets its connection reset; retry up to 10 times, 100 ms apart (Q7)."""
RESOLVE_TIMEOUT: Final = 3.0
"""Seconds to resolve an announced service (SRV, TXT, A)."""

LAN_UIIDS: Final = frozenset(
    {1, 2, 4, 6, 7, 8, 14, 28, 32, 34, 77, 78, 104, 126, 128, 136, 138, 162, 181, 182, 190,
     225, 258, 268, 275, 277}
)  # fmt: skip
"""UIIDs verified to take commands over the LAN (§6.3 "LAN yes")."""
ANNOUNCE_ONLY_UIIDS: Final = frozenset({168, 243})
"""Zigbee bridges that announce on the LAN but cannot control their children locally (§6.1)."""
NO_LAN_UIIDS: Final = frozenset(
    {5, 11, 22, 36, 59, 67, 87, 91, 130, 137, 141, 154, 226, 276, 7032, 7039, 7047, 7055}
)
"""UIIDs that do not speak LAN (§6.3 "LAN no"); 130 (SPM-4Relay) only through its SPM-Main."""

CLOUD_ONLY_PARAMS: Final = frozenset(
    {"targets", "relaySeparation", "autoControlEnabled", "transitionTime"}
)
"""Params peer clients send through the cloud only: devices ignore or time out on them over the
LAN (§7, quirks Q10, Q14)."""

DIY_TYPES: Final[dict[str, int]] = {
    "plug": 1,
    "diy_plug": 1,
    "strip": 4,
    "enhanced_plug": 5,
    "th_plug": 15,
    "rf": 28,
    "fan_light": 34,
    "light": 44,
    "diylight": 44,
    "switch_radar": 77,
    "multifun_switch": 126,
    "diy_light": 136,
}
"""UIID to model an unencrypted device that the account does not know, by its local `type`
(SonoffLAN's mapping, §6.2). `type` does not identify the UIID; prefer the cloud's."""
