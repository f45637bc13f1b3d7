"""ESP-Touch v1 encoder, CRC-8 and ACK parsing against the shared vectors."""

from __future__ import annotations

import importlib.util
import ipaddress
import random
from typing import Any

import pytest

from custom_components.ewelink.pairing import (
    GUIDE_LENGTHS,
    PLACEHOLDER_BSSID,
    DatumItem,
    ErrorReason,
    EspTouchResult,
    InvalidPairingInputError,
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

from .vectors import load_vector, vector_params

BASIC = "esptouch_v1_basic.json"
ACKS = "esptouch_ack.json"


def _bitwise_crc8(data: bytes) -> int:
    crc = 0
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x8C if crc & 1 else crc >> 1
    return crc


def _encode_case(case: dict[str, Any]) -> Any:
    return encode_esptouch(
        bytes.fromhex(case["ssid_hex"]),
        bytes.fromhex(case["password_hex"]),
        bytes.fromhex(case["bssid"].replace(":", "")),
        ipaddress.IPv4Address(case["ip"]).packed,
    )


# --- CRC-8 -------------------------------------------------------------------------------


@pytest.mark.parametrize("vector", vector_params(BASIC, "crc8.vectors"))
def test_crc8_vectors(vector: dict[str, Any]) -> None:
    assert crc8(bytes.fromhex(vector["data_hex"])) == vector["crc8"]


def test_crc8_check_value() -> None:
    assert crc8(b"123456789") == 0xA1


def test_crc8_table_matches_bitwise_definition() -> None:
    rng = random.Random(1234)
    samples = [bytes([value]) for value in range(256)]
    samples += [rng.randbytes(rng.randrange(0, 40)) for _ in range(200)]
    for sample in samples:
        assert crc8(sample) == _bitwise_crc8(sample)


# --- Encoder -----------------------------------------------------------------------------


@pytest.mark.parametrize("case", vector_params(BASIC, "cases", "name"))
def test_case_header_values(case: dict[str, Any]) -> None:
    ssid = bytes.fromhex(case["ssid_hex"])
    password = bytes.fromhex(case["password_hex"])
    assert ssid == case["ssid"].encode()
    assert password == case["password"].encode()
    assert crc8(ssid) == case["ssid_crc8"]
    assert crc8(bytes.fromhex(case["bssid"].replace(":", ""))) == case["bssid_crc8"]
    assert ack_token(ssid, password) == case["expected_ack_first_byte"]
    payload = _encode_case(case)
    assert payload.token == case["expected_ack_first_byte"]
    assert payload.items[0] == DatumItem(seq=0, value=case["total_len"])


@pytest.mark.parametrize("case", vector_params(BASIC, "cases", "name"))
def test_guide_and_datum_lengths_byte_exact(case: dict[str, Any]) -> None:
    payload = _encode_case(case)
    assert list(payload.guide_lengths) == case["guide_lengths"] == list(GUIDE_LENGTHS)
    assert list(payload.datum_lengths) == case["datum_lengths"]


@pytest.mark.parametrize("case", vector_params(BASIC, "cases", "name"))
def test_datum_items_in_send_order(case: dict[str, Any]) -> None:
    payload = _encode_case(case)
    assert [
        {"seq": item.seq, "value": item.value, "crc8": item.crc} for item in payload.items
    ] == case["datum_items"]


@pytest.mark.parametrize("case", vector_params(BASIC, "cases", "name"))
def test_lengths_decode_to_items(case: dict[str, Any]) -> None:
    lengths = case["datum_lengths"]
    for index, expected in enumerate(case["datum_items"]):
        triple = lengths[3 * index : 3 * index + 3]
        assert list(encode_item(expected["value"], expected["seq"])) == triple
        assert decode_item(*triple) == DatumItem(expected["seq"], expected["value"])


@pytest.mark.parametrize("case", vector_params(BASIC, "cases", "name"))
def test_bssid_items_inserted_every_fourth_position(case: dict[str, Any]) -> None:
    items = _encode_case(case).items
    total_len = case["total_len"]
    bssid = bytes.fromhex(case["bssid"].replace(":", ""))
    positions = [index for index, item in enumerate(items) if item.seq >= total_len]
    assert [items[index] for index in positions] == [
        DatumItem(total_len + offset, value) for offset, value in enumerate(bssid)
    ]
    expected_positions = []
    length_without = len(items) - 6
    for offset in range(6):
        wanted = 5 + 4 * offset
        expected_positions.append(min(wanted, length_without + offset))
    assert positions == expected_positions
    assert sorted(item.seq for item in items) == list(range(total_len + 6))


def test_worked_example_start() -> None:
    payload = encode_esptouch(
        b"MyWiFi", b"12345678", bytes.fromhex("aabbccddeeff"), bytes([192, 168, 1, 100])
    )
    assert payload.datum_lengths[:9] == (169, 296, 79, 72, 297, 176, 57, 298, 260)
    assert payload.items[5] == DatumItem(23, 0xAA)
    assert payload.token == 23


def test_build_payload_from_text_matches_vector() -> None:
    case = next(c for c in load_vector(BASIC)["cases"] if c["name"] == "basic_ascii")
    payload = build_payload(case["ssid"], case["password"], case["bssid"], case["ip"])
    assert list(payload.datum_lengths) == case["datum_lengths"]


def test_build_payload_open_network_matches_vector() -> None:
    case = next(
        c for c in load_vector(BASIC)["cases"] if c["name"] == "open_network_empty_password"
    )
    payload = build_payload(case["ssid"], "", case["bssid"].upper(), case["ip"])
    assert list(payload.datum_lengths) == case["datum_lengths"]


def test_build_payload_uses_placeholder_bssid_when_unknown() -> None:
    for bssid in (None, "", "  "):
        payload = build_payload("MyWiFi", "12345678", bssid, "192.168.1.100")
        expected = encode_esptouch(
            b"MyWiFi", b"12345678", PLACEHOLDER_BSSID, bytes([192, 168, 1, 100])
        )
        assert payload == expected
    assert len(PLACEHOLDER_BSSID) == 6
    assert not any(PLACEHOLDER_BSSID)


def test_build_payload_validates_before_encoding() -> None:
    with pytest.raises(InvalidPairingInputError) as err:
        build_payload("", "12345678", None, "192.168.1.100")
    assert err.value.reason == ErrorReason.SSID_EMPTY
    with pytest.raises(InvalidPairingInputError) as err:
        build_payload("net", "12345678", None, "192.168.1.300")
    assert err.value.reason == ErrorReason.IP_INVALID
    assert err.value.field == "sender_ip"
    with pytest.raises(InvalidPairingInputError) as err:
        build_payload("net", "12345678", "aa:bb", "192.168.1.3")
    assert err.value.reason == ErrorReason.BSSID_INVALID


def test_payload_repr_hides_datum() -> None:
    payload = build_payload("MyWiFi", "s3cretpassword", None, "192.168.1.100")
    text = repr(payload)
    assert "s3cret" not in text
    assert "items" not in text
    assert "token=" in text


def test_encode_item_limits() -> None:
    assert encode_item(0xFF, 127) == (
        ((crc8((0xFF, 127)) & 0xF0) | 0x0F) + 40,
        423,
        ((crc8((0xFF, 127)) & 0x0F) << 4 | 0x0F) + 40,
    )
    with pytest.raises(ValueError, match="seq"):
        encode_item(0, 128)
    with pytest.raises(ValueError, match="byte"):
        encode_item(256, 0)


def test_decode_item_rejects_garbage() -> None:
    len1, len2, len3 = encode_item(0x41, 7)
    assert decode_item(len1, len2, len3) == DatumItem(7, 0x41)
    assert decode_item(len1 ^ 0x10, len2, len3) is None  # CRC mismatch
    assert decode_item(len1, 515, len3) is None  # seq out of range
    assert decode_item(30, len2, len3) is None  # below EXTRA_LEN


def test_payload_too_long_is_rejected() -> None:
    ip = bytes(4)
    # Largest allowed: total_len + 5 == 127 -> total_len 122 -> ssid + password = 113 bytes.
    build_datum_items(b"s" * 32, b"p" * 81, bytes(6), ip)
    with pytest.raises(InvalidPairingInputError) as err:
        build_datum_items(b"s" * 32, b"p" * 82, bytes(6), ip)
    assert err.value.reason == ErrorReason.PAYLOAD_TOO_LONG


def test_build_datum_items_checks_raw_sizes() -> None:
    with pytest.raises(InvalidPairingInputError) as err:
        build_datum_items(b"s", b"", bytes(5), bytes(4))
    assert err.value.reason == ErrorReason.BSSID_INVALID
    with pytest.raises(InvalidPairingInputError) as err:
        build_datum_items(b"s", b"", bytes(6), bytes(16))
    assert err.value.reason == ErrorReason.IP_INVALID


# --- Transform hook ----------------------------------------------------------------------


def test_transform_lengths_and_token_follow_transformed_bytes() -> None:
    seen: list[bytes] = []

    def transform(data: bytes) -> bytes:
        seen.append(data)
        return bytes(reversed(data)) + b"\x00\x01\x02"

    payload = build_payload(
        "MyWiFi", "12345678", "aa:bb:cc:dd:ee:ff", "192.168.1.100", transform=transform
    )
    assert seen == [b"MyWiFi", b"12345678"]
    ssid = b"iFiWyM\x00\x01\x02"
    password = b"87654321\x00\x01\x02"
    assert payload.token == len(ssid) + len(password) + 9 == 29
    assert payload == encode_esptouch(
        ssid, password, bytes.fromhex("aabbccddeeff"), bytes([192, 168, 1, 100])
    )
    assert payload.items[0] == DatumItem(0, 29)
    assert payload.items[1] == DatumItem(1, len(password))
    assert payload.items[2] == DatumItem(2, crc8(ssid))


def test_identity_transform_changes_nothing() -> None:
    plain = build_payload("MyWiFi", "12345678", None, "192.168.1.100")
    same = build_payload("MyWiFi", "12345678", None, "192.168.1.100", transform=lambda data: data)
    assert plain == same


@pytest.mark.skipif(
    importlib.util.find_spec("cryptography") is None, reason="cryptography not installed"
)
def test_aes_ecb_pkcs5_transform() -> None:
    # FIPS-197 appendix C.1 known answer, followed by one full PKCS#5 padding block.
    transform = aes_ecb_pkcs5_transform(bytes(range(16)))
    out = transform(bytes.fromhex("00112233445566778899aabbccddeeff"))
    assert len(out) == 32
    assert out[:16] == bytes.fromhex("69c4e0d86a7b0430d8cdb78070b4c55a")
    assert len(transform(b"")) == 16
    assert len(transform(b"12345678")) == 16
    payload = build_payload("MyWiFi", "12345678", None, "10.0.0.2", transform=transform)
    assert payload.token == 16 + 16 + 9
    with pytest.raises(ValueError, match="16, 24 or 32"):
        aes_ecb_pkcs5_transform(b"short")


# --- ACK parsing -------------------------------------------------------------------------


@pytest.mark.parametrize("ack", vector_params(ACKS, "acks"))
def test_ack_vectors(ack: dict[str, Any]) -> None:
    cases = {case["name"]: case for case in load_vector(BASIC)["cases"]}
    token = cases[ack["for_case"]]["expected_ack_first_byte"]
    result = parse_ack(bytes.fromhex(ack["packet_hex"]), token)
    if ack["valid"]:
        expected = ack["expected_parse"]
        assert expected["token"] == token
        assert result == EspTouchResult(mac=expected["device_mac"], ip=expected["device_ip"])
    else:
        assert result is None


def test_ack_rejects_other_lengths_and_tokens() -> None:
    packet = bytes.fromhex("175ccf7fa6fdf6c0a80139")
    assert parse_ack(packet, 23) == EspTouchResult("5c:cf:7f:a6:fd:f6", "192.168.1.57")
    assert parse_ack(packet + b"\x00", 23) is None
    assert parse_ack(b"", 23) is None
    assert parse_ack(packet, 24) is None


def test_coolkit_doc_ack_example_needs_token_21() -> None:
    example = load_vector(ACKS)["coolkit_doc_example"]
    packet = bytes.fromhex(example["doc_bytes_hex"])
    # Espressif's rule gives 22 for "touch"/"12345678"; the documented packet starts with 21.
    assert ack_token(example["ssid"].encode(), example["password"].encode()) == 22
    assert parse_ack(packet, 22) is None
    assert parse_ack(packet, 21) == EspTouchResult(example["device_mac"], example["device_ip"])
