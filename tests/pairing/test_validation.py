"""Input validation: the table a config flow relies on for translated errors."""

from __future__ import annotations

import pytest

from custom_components.ewelink.pairing import (
    ErrorReason,
    InvalidPairingInputError,
    PairingError,
    WifiCredentials,
    esptouch_provision,
    format_mac,
    parse_bssid,
    parse_gsm_id,
    validate_password,
    validate_ssid,
    validate_wifi_credentials,
    wifi_credentials_errors,
)
from custom_components.ewelink.pairing.validation import validate_ipv4, validate_port

HEX64 = "0123456789abcdefABCDEF0123456789abcdef0123456789abcdef0123456789"


@pytest.mark.parametrize(
    ("ssid", "password", "bssid", "field", "reason"),
    [
        ("", "12345678", None, "ssid", ErrorReason.SSID_EMPTY),
        ("x" * 33, "12345678", None, "ssid", ErrorReason.SSID_TOO_LONG),
        ("é" * 17, "12345678", None, "ssid", ErrorReason.SSID_TOO_LONG),  # 34 bytes
        ("bad\nssid", "12345678", None, "ssid", ErrorReason.CONTROL_CHARACTERS),
        ("tab\tssid", "12345678", None, "ssid", ErrorReason.CONTROL_CHARACTERS),
        ("del\x7fssid", "12345678", None, "ssid", ErrorReason.CONTROL_CHARACTERS),
        ("c1\x85ssid", "12345678", None, "ssid", ErrorReason.CONTROL_CHARACTERS),
        ("surrogate\ud800", "12345678", None, "ssid", ErrorReason.ENCODING),
        ("net", "1234567", None, "password", ErrorReason.PASSWORD_LENGTH),
        ("net", "x", None, "password", ErrorReason.PASSWORD_LENGTH),
        ("net", "p" * 64, None, "password", ErrorReason.PASSWORD_LENGTH),
        ("net", HEX64[:-1] + "g", None, "password", ErrorReason.PASSWORD_LENGTH),
        ("net", HEX64 + "0", None, "password", ErrorReason.PASSWORD_LENGTH),
        ("net", "é" * 33, None, "password", ErrorReason.PASSWORD_LENGTH),  # 66 bytes
        ("net", "pass\x00word", None, "password", ErrorReason.CONTROL_CHARACTERS),
        ("net", "pass\rword1", None, "password", ErrorReason.CONTROL_CHARACTERS),
        ("net", "12345678", "aa:bb:cc:dd:ee", "bssid", ErrorReason.BSSID_INVALID),
        ("net", "12345678", "aa:bb:cc:dd:ee:fg", "bssid", ErrorReason.BSSID_INVALID),
        ("net", "12345678", "aa:bb-cc:dd:ee:ff", "bssid", ErrorReason.BSSID_INVALID),
        ("net", "12345678", "aabb.ccdd.eeff", "bssid", ErrorReason.BSSID_INVALID),
        ("net", "12345678", "aa:bb:cc:dd:ee:ff:00", "bssid", ErrorReason.BSSID_INVALID),
    ],
)
def test_invalid_inputs(
    ssid: str, password: str, bssid: str | None, field: str, reason: ErrorReason
) -> None:
    with pytest.raises(InvalidPairingInputError) as err:
        validate_wifi_credentials(ssid, password, bssid)
    assert err.value.reason == reason
    assert err.value.field == field
    assert isinstance(err.value, PairingError)
    assert isinstance(err.value, ValueError)
    if len(password) >= 4:  # the message never echoes the password
        assert password not in str(err.value)
    assert wifi_credentials_errors(ssid, password, bssid) == {field: reason}


@pytest.mark.parametrize(
    ("ssid", "password", "bssid", "expected_bssid"),
    [
        ("MyWiFi", "12345678", None, None),
        ("MyWiFi", "", None, None),  # open network
        ("x" * 32, "p" * 63, None, None),
        ("é" * 16, "12345678", None, None),  # 32 bytes
        (" spaced ", " pass word ", None, None),  # spaces are legal and kept
        ("Café ☕", "pässwörd", None, None),
        ("net", HEX64, None, None),  # raw PSK
        ("net", "12345678", "AA:BB:CC:DD:EE:FF", bytes.fromhex("aabbccddeeff")),
        ("net", "12345678", "aa-bb-cc-dd-ee-ff", bytes.fromhex("aabbccddeeff")),
        ("net", "12345678", " aabbccddeeff ", bytes.fromhex("aabbccddeeff")),
        ("net", "12345678", "", None),  # empty optional field = not given
    ],
)
def test_valid_inputs(
    ssid: str, password: str, bssid: str | None, expected_bssid: bytes | None
) -> None:
    credentials = validate_wifi_credentials(ssid, password, bssid)
    assert credentials == WifiCredentials(ssid, password, expected_bssid)
    assert credentials.ssid_bytes == ssid.encode()
    assert credentials.password_bytes == password.encode()
    assert wifi_credentials_errors(ssid, password, bssid) == {}


def test_errors_reports_every_field() -> None:
    assert wifi_credentials_errors("", "short", "nope") == {
        "ssid": ErrorReason.SSID_EMPTY,
        "password": ErrorReason.PASSWORD_LENGTH,
        "bssid": ErrorReason.BSSID_INVALID,
    }
    assert wifi_credentials_errors("", "short", "nope")["ssid"] == "ssid_empty"


def test_reasons_are_plain_strings() -> None:
    reason: str = ErrorReason.SSID_EMPTY
    assert reason == "ssid_empty"
    assert isinstance(reason, str)
    assert {reason.value for reason in ErrorReason} >= {
        "ssid_empty",
        "ssid_too_long",
        "password_length",
        "control_characters",
        "bssid_invalid",
    }


def test_credentials_repr_hides_password() -> None:
    credentials = validate_wifi_credentials("MyWiFi", "topsecret1")
    assert "topsecret1" not in repr(credentials)
    assert "MyWiFi" in repr(credentials)


def test_single_field_helpers() -> None:
    assert validate_ssid("abc") == b"abc"
    assert validate_password("") == b""
    assert parse_bssid("01:02:03:04:05:06") == bytes([1, 2, 3, 4, 5, 6])
    assert format_mac(bytes([0x5C, 0xCF, 0x7F, 0xA6, 0xFD, 0xF6])) == "5c:cf:7f:a6:fd:f6"
    assert validate_ipv4("10.0.0.2") == bytes([10, 0, 0, 2])
    with pytest.raises(InvalidPairingInputError) as err:
        validate_ipv4("::1")
    assert err.value.reason == ErrorReason.IP_INVALID


@pytest.mark.parametrize("port", [0, 65536, -1, True, "443", 443.0, None])
def test_port_must_be_int_in_range(port: object) -> None:
    with pytest.raises(InvalidPairingInputError) as err:
        validate_port(port)  # type: ignore[arg-type]
    assert err.value.reason == ErrorReason.PORT_INVALID


def test_port_valid() -> None:
    assert validate_port(443) == 443
    assert validate_port(1) == 1
    assert validate_port(65535) == 65535


# No socket_enabled fixture in this module: opening any socket would fail these tests, which
# proves that esptouch_provision validates everything before it touches the network.
@pytest.mark.parametrize(
    ("kwargs", "reason"),
    [
        ({"ssid": ""}, ErrorReason.SSID_EMPTY),
        ({"password": "short"}, ErrorReason.PASSWORD_LENGTH),
        ({"bssid": "zz"}, ErrorReason.BSSID_INVALID),
        ({"sender_ip": "localhost"}, ErrorReason.IP_INVALID),
        ({"target": "somewhere"}, ErrorReason.TARGET_INVALID),
        ({"port": 0}, ErrorReason.PORT_INVALID),
        ({"ack_port": 70000}, ErrorReason.PORT_INVALID),
    ],
)
async def test_provision_validates_before_opening_sockets(
    kwargs: dict[str, object], reason: ErrorReason
) -> None:
    arguments: dict[str, object] = {
        "ssid": "MyWiFi",
        "password": "12345678",
        "bssid": None,
        "sender_ip": "192.168.1.100",
    }
    arguments.update(kwargs)
    with pytest.raises(InvalidPairingInputError) as err:
        await esptouch_provision(**arguments)  # type: ignore[arg-type]
    assert err.value.reason == reason


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("gsm-0001", "gsm-0001"),
        ("  ABC123  ", "ABC123"),
        ("https://anything.example/addGsm?id=gsm-7001", "gsm-7001"),
        ("https://qr.example/addGsm?other=1", ""),
        ("not a valid id!", ""),
        ("", ""),
    ],
)
def test_parse_gsm_id(text: str, expected: str) -> None:
    """The id comes from the label or the QR code's `addGsm?id=` query."""
    assert parse_gsm_id(text) == expected
