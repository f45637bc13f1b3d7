"""Device pairing for eWeLink/CoolKit devices (pure asyncio, no Home Assistant imports).

Paths (pairing.md §0):

* **AP mode** (dependable): :func:`ap_provision` / :class:`DeviceApClient` talk to the device
  hotspot (``GET /device``, ``POST /ap``); then bind with :func:`bind_digest`.
* **Touch mode** (experimental): :func:`esptouch_provision` sends ESP-Touch v1 and waits for
  the ACK; then :class:`DeviceApClient` on the device's LAN address. CoolKit firmware may
  expect an undisclosed encryption of the credentials, see :mod:`.esptouch`.

Validate user input first with :func:`wifi_credentials_errors` or
:func:`validate_wifi_credentials`. All errors derive from :class:`PairingError` and carry a
stable ``reason``.
"""

from __future__ import annotations

from .ap import (
    DEFAULT_DEVICE_HOST,
    DEFAULT_DEVICE_PORT,
    REQUEST_HEADERS,
    DeviceApClient,
    DeviceInfo,
    ap_provision,
    bind_digest,
    device_dispatch_host,
    parse_gsm_id,
    validate_server,
)
from .errors import (
    DeviceApError,
    DeviceRejectedError,
    DeviceResponseError,
    DeviceUnreachableError,
    ErrorReason,
    EspTouchError,
    EspTouchSocketError,
    EspTouchTimeoutError,
    InvalidPairingInputError,
    PairingError,
)
from .esptouch import (
    GUIDE_LENGTHS,
    PLACEHOLDER_BSSID,
    DatumItem,
    EspTouchPayload,
    EspTouchResult,
    Transform,
    ack_token,
    aes_ecb_pkcs5_transform,
    build_datum_items,
    build_payload,
    crc8,
    decode_item,
    encode_esptouch,
    encode_item,
    parse_ack,
)
from .esptouch_net import (
    BROADCAST,
    DEFAULT_ACK_BIND,
    DEFAULT_ACK_PORT,
    DEFAULT_PORT,
    MULTICAST,
    EspTouchAckListener,
    EspTouchSchedule,
    destination_addresses,
    esptouch_provision,
    multicast_addresses,
    send_esptouch,
    subnet_broadcast_address,
    validate_target,
)
from .validation import (
    WifiCredentials,
    format_mac,
    parse_bssid,
    validate_ipv4,
    validate_password,
    validate_port,
    validate_ssid,
    validate_wifi_credentials,
    wifi_credentials_errors,
)

__all__ = [
    "BROADCAST",
    "DEFAULT_ACK_BIND",
    "DEFAULT_ACK_PORT",
    "DEFAULT_DEVICE_HOST",
    "DEFAULT_DEVICE_PORT",
    "DEFAULT_PORT",
    "GUIDE_LENGTHS",
    "MULTICAST",
    "PLACEHOLDER_BSSID",
    "REQUEST_HEADERS",
    "DatumItem",
    "DeviceApClient",
    "DeviceApError",
    "DeviceInfo",
    "DeviceRejectedError",
    "DeviceResponseError",
    "DeviceUnreachableError",
    "ErrorReason",
    "EspTouchAckListener",
    "EspTouchError",
    "EspTouchPayload",
    "EspTouchResult",
    "EspTouchSchedule",
    "EspTouchSocketError",
    "EspTouchTimeoutError",
    "InvalidPairingInputError",
    "PairingError",
    "Transform",
    "WifiCredentials",
    "ack_token",
    "aes_ecb_pkcs5_transform",
    "ap_provision",
    "bind_digest",
    "build_datum_items",
    "build_payload",
    "crc8",
    "decode_item",
    "destination_addresses",
    "device_dispatch_host",
    "encode_esptouch",
    "encode_item",
    "esptouch_provision",
    "format_mac",
    "multicast_addresses",
    "parse_ack",
    "parse_bssid",
    "parse_gsm_id",
    "send_esptouch",
    "subnet_broadcast_address",
    "validate_ipv4",
    "validate_password",
    "validate_port",
    "validate_server",
    "validate_ssid",
    "validate_target",
    "validate_wifi_credentials",
    "wifi_credentials_errors",
]
