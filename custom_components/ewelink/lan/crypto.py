"""AES-128-CBC of the eWeLink LAN protocol (lan-protocol.md §3).

Key = the 16 raw bytes of MD5(devicekey as UTF-8), PKCS#7 padding, standard base64 for the IV
and the ciphertext. Decryption is tolerant of what real firmware sends: empty data (Q5), a second
padding block (Q3, AltoBeam GTWS78) and the RF Bridge's `"="` instead of `":"` (Q4).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
import hashlib
import json
import os
from typing import Any

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from .errors import LanDecryptError

BLOCK = 16
MAX_CIPHERTEXT = 64 * 1024
"""Refuse to decrypt more than this (a TXT record holds about 1 KB, a reply a few KB)."""

# Bytes that can trail a JSON object only as padding: PKCS#7 values (1..16) and zeros.
_PADDING_BYTES = bytes(range(BLOCK + 1))


def aes_key(devicekey: str) -> bytes:
    """Return the AES key of a device: the MD5 digest (16 raw bytes) of its devicekey."""
    return hashlib.md5(devicekey.encode(), usedforsecurity=False).digest()


def new_iv() -> bytes:
    """Return a fresh random 16-byte IV."""
    return os.urandom(BLOCK)


def b64decode(text: str) -> bytes:
    """Decode standard base64, tolerating missing `=` padding; raise ValueError otherwise."""
    stripped = text.strip()
    stripped += "=" * (-len(stripped) % 4)
    try:
        return base64.b64decode(stripped, validate=True)
    except binascii.Error as err:
        raise ValueError("not base64") from err


def pkcs7_pad(data: bytes) -> bytes:
    """Pad to 16-byte blocks (a full extra block when the length is already a multiple)."""
    count = BLOCK - len(data) % BLOCK
    return data + bytes([count]) * count


def encrypt(plaintext: bytes, devicekey: str, iv: bytes | None = None) -> tuple[str, str]:
    """Encrypt bytes; return `(data, iv)`, both base64. A fresh IV is drawn when none is given."""
    iv = new_iv() if iv is None else iv
    if len(iv) != BLOCK:
        raise ValueError("the IV must be 16 bytes")
    encryptor = Cipher(algorithms.AES(aes_key(devicekey)), modes.CBC(iv)).encryptor()
    ciphertext = encryptor.update(pkcs7_pad(plaintext)) + encryptor.finalize()
    return base64.b64encode(ciphertext).decode(), base64.b64encode(iv).decode()


def encrypt_params(
    params: Mapping[str, Any], devicekey: str, iv: bytes | None = None
) -> tuple[str, str]:
    """Encrypt a params object as JSON; return `(data, iv)`, both base64."""
    plaintext = json.dumps(params, separators=(",", ":"), ensure_ascii=False).encode()
    return encrypt(plaintext, devicekey, iv)


def decrypt(data: str, iv: str, devicekey: str) -> bytes:
    """Decrypt base64 data; return the plaintext with every trailing padding byte removed.

    Raises LanDecryptError when the data or the IV is not valid base64 of the right size.
    Whether the key was right shows only when the plaintext is parsed (see `decrypt_params`).
    """
    try:
        raw_iv = b64decode(iv)
        ciphertext = b64decode(data)
    except ValueError:
        raise LanDecryptError("data or iv is not base64") from None
    if len(raw_iv) != BLOCK:
        raise LanDecryptError("the iv is not 16 bytes")
    if not ciphertext or len(ciphertext) % BLOCK or len(ciphertext) > MAX_CIPHERTEXT:
        raise LanDecryptError("the ciphertext is not a whole number of blocks")
    decryptor = Cipher(algorithms.AES(aes_key(devicekey)), modes.CBC(raw_iv)).decryptor()
    padded = decryptor.update(ciphertext) + decryptor.finalize()
    # A JSON object ends with "}", so every trailing byte <= 0x10 is padding: this removes the
    # PKCS#7 block and the extra one of Q3 alike.
    return padded.rstrip(_PADDING_BYTES)


def decrypt_params(data: str, iv: str | None, devicekey: str) -> dict[str, Any]:
    """Decrypt and parse a params object; empty data means no params (Q5).

    Raises LanDecryptError when the result is not a JSON object (most often: the wrong key).
    """
    if not data:
        return {}
    if not iv:
        raise LanDecryptError("encrypted data without an iv")
    return loads_params(decrypt(data, iv, devicekey))


def loads_params(raw: bytes | str) -> dict[str, Any]:
    """Parse a params object as devices write it; raise LanDecryptError when it is not one.

    The RF Bridge sometimes writes `"="` where `":"` belongs (Q4); that is repaired.
    """
    try:
        text = raw.decode() if isinstance(raw, bytes) else raw
    except UnicodeDecodeError:
        raise LanDecryptError("data is not UTF-8") from None
    text = text.strip()
    if not text:
        return {}
    try:
        value = json.loads(text)
    except ValueError, RecursionError:
        value = _repair_rf(text)
    if not isinstance(value, dict):
        raise LanDecryptError("data is not a JSON object")
    return value


def _repair_rf(text: str) -> Any:
    if not text.startswith('{"rf'):
        raise LanDecryptError("data is not JSON")
    try:
        return json.loads(text.replace('"="', '":"'))
    except ValueError, RecursionError:
        raise LanDecryptError("data is not JSON") from None
