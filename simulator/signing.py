"""Signature and digest checks of the CoolKit cloud, written independently of the client.

coolkit-cloud.md §3.3: `Authorization: Sign <base64(HMAC-SHA256(secret, message))>`, where the
message is the raw body of a POST/PUT, or the query parameters of a GET/DELETE sorted by name and
joined as `k=v` with `&` (decoded values).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from urllib.parse import unquote, unquote_plus


def hmac_b64(secret: str, message: bytes) -> str:
    """Return base64(HMAC-SHA256(secret, message))."""
    mac = hmac.new(secret.encode("utf-8"), message, hashlib.sha256).digest()
    return base64.b64encode(mac).decode("ascii")


def signature_matches(secret: str, message: bytes, signature: str) -> bool:
    """Compare a received signature with the expected one in constant time."""
    expected = hmac_b64(secret, message)
    return hmac.compare_digest(
        expected.encode("ascii"), signature.strip().encode("ascii", "replace")
    )


def query_messages(raw_query: str) -> list[bytes]:
    """Return the candidate signed strings for a raw query string.

    The values are decoded before signing [inf]. Percent-decoding is unambiguous, but a literal
    `+` on the wire can mean `+` (RFC 3986) or a space (HTML forms); both readings are accepted.
    """
    pairs = [part.partition("=") for part in raw_query.split("&") if part]
    candidates: list[bytes] = []
    for decode in (unquote, unquote_plus):
        items = sorted((decode(k), decode(v)) for k, _, v in pairs)
        message = "&".join(f"{k}={v}" for k, v in items).encode("utf-8")
        if message not in candidates:
            candidates.append(message)
    return candidates


def device_digest(deviceid: str, device_apikey: str) -> str:
    """Return the lower-case hex SHA-256 of `deviceid + apikey` (POST /v2/device/add)."""
    return hashlib.sha256((deviceid + device_apikey).encode("utf-8")).hexdigest()


def oauth_authorization(secret: str, client_id: str, seq: str) -> str:
    """Return the `authorization` parameter of the OAuth page: HMAC of `clientId_seq`."""
    return hmac_b64(secret, f"{client_id}_{seq}".encode())
