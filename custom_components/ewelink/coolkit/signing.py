"""Request signing for the CoolKit API v2 (coolkit-cloud.md §3.3)."""

from __future__ import annotations

import base64
from collections.abc import Mapping
import hashlib
import hmac
import secrets
import string

_NONCE_ALPHABET = string.ascii_letters + string.digits


def sign(secret: str, message: bytes | str) -> str:
    """Return base64(HMAC-SHA256(secret, message)), the value after `Sign `."""
    if isinstance(message, str):
        message = message.encode()
    digest = hmac.new(secret.encode(), message, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def query_message(params: Mapping[str, str | int]) -> str:
    """Return the signed form of GET/DELETE parameters: sorted, decoded `k=v` joined by `&`."""
    return "&".join(f"{key}={params[key]}" for key in sorted(params))


def nonce(length: int = 8) -> str:
    """Return a random alphanumeric nonce (X-CK-Nonce, OAuth `nonce`)."""
    return "".join(secrets.choice(_NONCE_ALPHABET) for _ in range(length))


def device_digest(deviceid: str, device_apikey: str) -> str:
    """Return the `/v2/device/add` digest: lowercase hex sha256(deviceid + device apikey)."""
    return hashlib.sha256(f"{deviceid}{device_apikey}".encode()).hexdigest()
