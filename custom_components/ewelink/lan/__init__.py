"""Local (LAN) control of eWeLink devices: mDNS announcements, AES, the `/zeroconf` HTTP API.

Pure asyncio + aiohttp + python-zeroconf + cryptography; nothing here imports Home Assistant.
The protocol is described in `lan-protocol.md`.

* :func:`parse_announcement` turns what a DNS-SD browser resolves into an :class:`Announcement`
  (decrypted later with :meth:`Announcement.params`); :class:`LanDiscovery` browses on a given
  zeroconf instance and has a `feed()` seam.
* :class:`SeqTracker` tells whether an announcement is newer than what was applied (Q8, Q9).
* :class:`LanClient` sends commands to a :class:`LanTarget`; errors derive from
  :class:`LanError` (see `errors` for how to react to each).
* :class:`LanRegistry` ties them together for an integration: one `handle()` per announcement,
  `target()` before a command, `command_succeeded()` / `command_failed()` after it.
"""

from .announcement import Announcement, device_id_from_name, parse_announcement
from .client import LanClient, LanReply, LanTarget
from .commands import cloud_only, command_for, commands_over_lan, diy_uiid
from .const import (
    ANNOUNCE_ONLY_UIIDS,
    CLOUD_ONLY_PARAMS,
    DEFAULT_PORT,
    DEFAULT_TIMEOUT,
    DIY_TYPES,
    LAN_ONLY_TIMEOUT,
    LAN_UIIDS,
    NO_LAN_UIIDS,
    SERVICE_TYPE,
)
from .crypto import aes_key, decrypt, decrypt_params, encrypt, encrypt_params, loads_params
from .discovery import LanDiscovery
from .errors import (
    LanConnectionError,
    LanDecryptError,
    LanError,
    LanKeyRequiredError,
    LanProtocolError,
    LanRejectedError,
    LanTimeoutError,
    LanUnreachableError,
)
from .freshness import Freshness, SeqTracker
from .registry import MAX_FAILURES, PING_AFTER, RETRY_OFFLINE, LanPeer, LanRegistry, LanUpdate

__all__ = [
    "ANNOUNCE_ONLY_UIIDS",
    "CLOUD_ONLY_PARAMS",
    "DEFAULT_PORT",
    "DEFAULT_TIMEOUT",
    "DIY_TYPES",
    "LAN_ONLY_TIMEOUT",
    "LAN_UIIDS",
    "MAX_FAILURES",
    "NO_LAN_UIIDS",
    "PING_AFTER",
    "RETRY_OFFLINE",
    "SERVICE_TYPE",
    "Announcement",
    "Freshness",
    "LanClient",
    "LanConnectionError",
    "LanDecryptError",
    "LanDiscovery",
    "LanError",
    "LanKeyRequiredError",
    "LanPeer",
    "LanProtocolError",
    "LanRegistry",
    "LanRejectedError",
    "LanReply",
    "LanTarget",
    "LanTimeoutError",
    "LanUnreachableError",
    "LanUpdate",
    "SeqTracker",
    "aes_key",
    "cloud_only",
    "command_for",
    "commands_over_lan",
    "decrypt",
    "decrypt_params",
    "device_id_from_name",
    "diy_uiid",
    "encrypt",
    "encrypt_params",
    "loads_params",
    "parse_announcement",
]
