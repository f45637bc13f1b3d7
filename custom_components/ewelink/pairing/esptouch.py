"""ESP-Touch v1 ("SmartConfig") encoder and ACK parser (pure functions, no I/O).

The sender transmits UDP datagrams whose *lengths* carry the data; every payload byte is
``0x31``. One transmission cycle is the guide code ``515, 514, 513, 512`` followed by the
datum code: items ``(value, seq)`` each encoded as three lengths. The layout, send order
and CRC reproduce Espressif's reference encoder byte for byte (pairing.md §1, checked
against ``vectors/esptouch_v1_basic.json``).

BSSID
    The router's BSSID is part of the datum. Home Assistant usually cannot know it (wired
    host, mesh networks with several BSSIDs). When it is not given, :data:`PLACEHOLDER_BSSID`
    (``00:00:00:00:00:00``) is sent. Espressif's example firmware pins the access point by
    the received BSSID, so firmware doing the same may fail to join with the placeholder;
    let the user enter the BSSID when Touch mode is used.

Encryption hook (pairing.md §1.10, §3.9)
    CoolKit states that its Touch mode "added encrypted authentication" on top of
    ESP-Touch, with an undisclosed algorithm and key. Plain ESP-Touch, as produced here by
    default, may therefore be ignored by eWeLink firmware; **AP mode is the dependable
    pairing path** and Touch mode should be labelled experimental. To allow experiments,
    :func:`build_payload` accepts an optional ``transform(bytes) -> bytes`` applied to the
    SSID bytes and to the password bytes before encoding (as Espressif's former AES option
    did). Everything else (lengths, CRCs, XOR, the expected ACK token) is then computed from
    the transformed bytes. :func:`aes_ecb_pkcs5_transform` provides Espressif's historical
    AES/ECB/PKCS5 variant when the ``cryptography`` package is installed; no key is known to
    work with eWeLink devices.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
import ipaddress
from typing import Final, NamedTuple

from .errors import ErrorReason, InvalidPairingInputError
from .validation import (
    format_mac,
    validate_ipv4,
    validate_wifi_credentials,
)

type Transform = Callable[[bytes], bytes]
"""Maps SSID or password bytes to the bytes actually encoded (e.g. an encryption)."""

GUIDE_LENGTHS: Final = (515, 514, 513, 512)
PAYLOAD_BYTE: Final = 0x31
EXTRA_LEN: Final = 40
EXTRA_HEAD_LEN: Final = 5
IP_LEN: Final = 4
BSSID_LEN: Final = 6
SEQ_MAX: Final = 127
BSSID_INSERT_START: Final = 5
BSSID_INSERT_STEP: Final = 4
ACK_LENGTH: Final = 11
PLACEHOLDER_BSSID: Final = bytes(BSSID_LEN)
"""Sent when the router's BSSID is unknown (see the module docstring for the caveat)."""


def _crc8_table() -> tuple[int, ...]:
    table = []
    for index in range(256):
        crc = index
        for _ in range(8):
            crc = (crc >> 1) ^ 0x8C if crc & 1 else crc >> 1
        table.append(crc)
    return tuple(table)


_CRC8_TABLE: Final = _crc8_table()


def crc8(data: Iterable[int]) -> int:
    """CRC-8/MAXIM-DOW: reflected polynomial 0x8C, init 0, no final XOR."""
    crc = 0
    for byte in data:
        crc = _CRC8_TABLE[(byte ^ crc) & 0xFF]
    return crc


class DatumItem(NamedTuple):
    """One datum item: a byte ``value`` placed at position ``seq`` by the receiver."""

    seq: int
    value: int

    @property
    def crc(self) -> int:
        """CRC-8 over ``[value, seq]``, carried in the item's encoding."""
        return crc8((self.value, self.seq))

    def lengths(self) -> tuple[int, int, int]:
        """The three datagram lengths that encode this item."""
        return encode_item(self.value, self.seq)


def encode_item(value: int, seq: int) -> tuple[int, int, int]:
    """Encode ``(value, seq)`` as three datagram lengths (pairing.md §1.5)."""
    if not 0 <= value <= 0xFF:
        raise ValueError("datum value must be a byte")
    if not 0 <= seq <= SEQ_MAX:
        raise ValueError(f"datum seq must be 0..{SEQ_MAX}")
    crc = crc8((value, seq))
    return (
        ((crc & 0xF0) | (value >> 4)) + EXTRA_LEN,
        (0x100 | seq) + EXTRA_LEN,
        (((crc & 0x0F) << 4) | (value & 0x0F)) + EXTRA_LEN,
    )


def decode_item(len1: int, len2: int, len3: int) -> DatumItem | None:
    """Decode three datagram lengths into an item; ``None`` if they are not a valid item."""
    seq = len2 - EXTRA_LEN - 0x100
    high = len1 - EXTRA_LEN
    low = len3 - EXTRA_LEN
    if not (0 <= seq <= SEQ_MAX and 0 <= high <= 0xFF and 0 <= low <= 0xFF):
        return None
    value = ((high & 0x0F) << 4) | (low & 0x0F)
    crc = (high & 0xF0) | (low >> 4)
    if crc != crc8((value, seq)):
        return None
    return DatumItem(seq, value)


def ack_token(ssid: bytes, password: bytes) -> int:
    """First byte of a valid ACK: ``(len(ssid) + len(password) + 9) & 0xFF``."""
    return (len(ssid) + len(password) + EXTRA_HEAD_LEN + IP_LEN) & 0xFF


def build_datum_items(ssid: bytes, password: bytes, bssid: bytes, ip: bytes) -> list[DatumItem]:
    """Build one datum cycle in Espressif's send order (pairing.md §1.4).

    ``ssid`` and ``password`` are the bytes to encode (already transformed, if a transform
    is used); ``bssid`` has 6 bytes, ``ip`` the sender's 4 IPv4 bytes.
    """
    if len(bssid) != BSSID_LEN:
        raise InvalidPairingInputError(
            "BSSID must be 6 bytes", reason=ErrorReason.BSSID_INVALID, field="bssid"
        )
    if len(ip) != IP_LEN:
        raise InvalidPairingInputError(
            "IP must be 4 bytes", reason=ErrorReason.IP_INVALID, field="ip"
        )
    total_len = EXTRA_HEAD_LEN + IP_LEN + len(password) + len(ssid)
    if total_len + BSSID_LEN - 1 > SEQ_MAX:
        raise InvalidPairingInputError(
            "SSID and password are too long for ESP-Touch",
            reason=ErrorReason.PAYLOAD_TOO_LONG,
        )
    head = [total_len, len(password), crc8(ssid), crc8(bssid)]
    body = bytes(ip) + bytes(password) + bytes(ssid)
    total_xor = 0
    for value in (*head, *body):
        total_xor ^= value
    values = [*head, total_xor, *body]
    items = [DatumItem(seq, value) for seq, value in enumerate(values)]
    position = BSSID_INSERT_START
    for index, value in enumerate(bssid):
        item = DatumItem(total_len + index, value)
        if position > len(items):
            items.append(item)
        else:
            items.insert(position, item)
        position += BSSID_INSERT_STEP
    return items


@dataclass(frozen=True, slots=True)
class EspTouchPayload:
    """Everything the sender needs for one provisioning run.

    The datum encodes the password, so it is kept out of ``repr``.
    """

    token: int
    """Expected first byte of the device's ACK."""
    items: tuple[DatumItem, ...] = field(repr=False)
    guide_lengths: tuple[int, ...] = GUIDE_LENGTHS

    @property
    def datum_lengths(self) -> tuple[int, ...]:
        """One full datum cycle as datagram lengths (three per item)."""
        return tuple(length for item in self.items for length in item.lengths())


def encode_esptouch(ssid: bytes, password: bytes, bssid: bytes, ip: bytes) -> EspTouchPayload:
    """Encode raw bytes (no validation of text rules, no transform)."""
    items = build_datum_items(ssid, password, bssid, ip)
    return EspTouchPayload(token=ack_token(ssid, password), items=tuple(items))


def build_payload(
    ssid: str,
    password: str,
    bssid: str | None,
    sender_ip: str,
    *,
    transform: Transform | None = None,
) -> EspTouchPayload:
    """Validate the inputs, apply the optional transform and encode.

    ``bssid`` ``None`` (or empty) selects :data:`PLACEHOLDER_BSSID`. ``sender_ip`` is this
    host's IPv4 address on the target LAN: the device sends its ACK there.
    """
    credentials = validate_wifi_credentials(ssid, password, bssid)
    ip = validate_ipv4(sender_ip, field_name="sender_ip")
    ssid_bytes = credentials.ssid_bytes
    password_bytes = credentials.password_bytes
    if transform is not None:
        ssid_bytes = bytes(transform(ssid_bytes))
        password_bytes = bytes(transform(password_bytes))
    bssid_bytes = credentials.bssid if credentials.bssid is not None else PLACEHOLDER_BSSID
    return encode_esptouch(ssid_bytes, password_bytes, bssid_bytes, ip)


@dataclass(frozen=True, slots=True)
class EspTouchResult:
    """A device that acknowledged: its station MAC and its IPv4 address on the LAN."""

    mac: str
    ip: str


def parse_ack(data: bytes, token: int) -> EspTouchResult | None:
    """Parse an 11-byte ACK ``token | mac(6) | ip(4)``; ``None`` for anything else."""
    if len(data) != ACK_LENGTH or data[0] != token:
        return None
    return EspTouchResult(mac=format_mac(data[1:7]), ip=str(ipaddress.IPv4Address(data[7:11])))


def aes_ecb_pkcs5_transform(key: bytes) -> Transform:
    """Return Espressif's historical AES/ECB/PKCS5Padding transform for ``key``.

    Needs the optional ``cryptography`` package (Home Assistant ships it); raises
    :class:`ImportError` otherwise. ``key`` must be 16, 24 or 32 bytes. ECB is what the
    protocol variant used; it is offered for compatibility experiments only.
    """
    from cryptography.hazmat.primitives import padding  # noqa: PLC0415
    from cryptography.hazmat.primitives.ciphers import (  # noqa: PLC0415
        Cipher,
        algorithms,
        modes,
    )

    if len(key) not in {16, 24, 32}:
        raise ValueError("AES key must be 16, 24 or 32 bytes")
    cipher = Cipher(algorithms.AES(key), modes.ECB())  # noqa: S305 - protocol-defined mode

    def transform(data: bytes) -> bytes:
        padder = padding.PKCS7(algorithms.AES.block_size).padder()
        padded = padder.update(data) + padder.finalize()
        encryptor = cipher.encryptor()
        return encryptor.update(padded) + encryptor.finalize()

    return transform
