"""TXT / announcement parsing: instance names, dataN, seq, encrypt, DIY, SPM sub-units, validation."""

from __future__ import annotations

import base64
import logging
from typing import Any

import pytest

from custom_components.ewelink.lan import (
    Announcement,
    LanDecryptError,
    LanKeyRequiredError,
    device_id_from_name,
    encrypt_params,
    parse_announcement,
)

from .vectors import DATA_A, DATA_B, IV_A, IV_B, KEY_A, KEY_B

NAME = "eWeLink_1000abcdef._ewelink._tcp.local."


def txt(**values: Any) -> dict[bytes, bytes | None]:
    """TXT properties as python-zeroconf delivers them (bytes keys and values)."""
    base: dict[str, Any] = {"txtvers": "1", "id": "1000abcdef", "type": "plug", "apivers": "1"}
    base.update(values)
    return {
        k.encode(): (None if v is None else v if isinstance(v, bytes) else str(v).encode())
        for k, v in base.items()
    }


def split(text: str, size: int = 249) -> dict[str, bytes]:
    raw = text.encode()
    return {f"data{i + 1}": raw[o : o + size] for i, o in enumerate(range(0, len(raw), size))}


def test_encrypted_announcement() -> None:
    ann = parse_announcement(
        NAME, ["192.168.1.20"], 8081, txt(seq="7", encrypt="true", iv=IV_B, data1=DATA_B)
    )
    assert isinstance(ann, Announcement)
    assert ann.deviceid == "1000abcdef"
    assert ann.subdevid is None
    assert ann.local_type == "plug"
    assert ann.seq == 7
    assert ann.encrypted
    assert ann.host == "192.168.1.20"
    assert ann.port == 8081
    assert ann.name == "eWeLink_1000abcdef"
    assert ann.has_data
    assert ann.key == ("1000abcdef", None)
    assert ann.params(KEY_B) == {"switch": "on"}
    # A fresh dict each time: the announcement stays immutable.
    ann.params(KEY_B)["switch"] = "off"
    assert ann.params(KEY_B) == {"switch": "on"}


def test_decryption_waits_for_the_key() -> None:
    ann = parse_announcement(NAME, [], 8081, txt(seq="1", encrypt="true", iv=IV_A, data1=DATA_A))
    assert ann is not None
    with pytest.raises(LanKeyRequiredError):
        ann.params(None)
    with pytest.raises(LanDecryptError):
        ann.params(KEY_B)
    assert ann.params(KEY_A) == {"switches": [{"outlet": 0, "switch": "off"}]}


def test_repr_hides_data_and_iv() -> None:
    ann = parse_announcement(NAME, [], 8081, txt(seq="1", encrypt="true", iv=IV_A, data1=DATA_A))
    assert DATA_A not in repr(ann)
    assert IV_A not in repr(ann)


def test_data_chunks_joined_in_numeric_order() -> None:
    """A long state spans data1..data3 (and data10 sorts after data9, not after data1)."""
    params = {"switches": [{"outlet": i, "switch": "on", "startup": "stay"} for i in range(12)]}
    data, iv = encrypt_params(params, KEY_A)
    chunks = split(data)
    assert len(chunks) >= 3
    shuffled = dict(reversed(list(chunks.items())))
    ann = parse_announcement(
        NAME, ["10.0.0.2"], 8081, txt(seq="2", encrypt="true", iv=iv, **shuffled)
    )
    assert ann is not None
    assert ann.params(KEY_A) == params
    many = split(data, 60)
    assert len(many) > 10
    ann = parse_announcement(NAME, ["10.0.0.2"], 8081, txt(seq="2", encrypt="true", iv=iv, **many))
    assert ann is not None
    assert ann.params(KEY_A) == params


def test_plaintext_diy_split_inside_a_character() -> None:
    """Chunks are joined as bytes: a split in the middle of a UTF-8 character is fine."""
    text = '{"switch":"on","label":"' + "é" * 200 + '"}'
    raw = text.encode()
    chunks = {"data1": raw[:249], "data2": raw[249:]}
    with pytest.raises(UnicodeDecodeError):
        chunks["data1"].decode()
    ann = parse_announcement(NAME, ["10.0.0.3"], 8081, txt(seq="3", type="diy_plug", **chunks))
    assert ann is not None
    assert not ann.encrypted
    assert ann.iv is None
    assert ann.params() == {"switch": "on", "label": "é" * 200}


def test_lowercase_l_instance_and_str_properties() -> None:
    """UIID 104 bulbs announce `eWelink_`; str keys and values are accepted too."""
    ann = parse_announcement(
        "eWelink_1000ABCDEF._ewelink._tcp.local.",
        ["10.0.0.4"],
        8081,
        {"id": "1000abcdef", "seq": "1", "data1": '{"switch":"off"}'},
    )
    assert ann is not None
    assert ann.deviceid == "1000abcdef"
    assert ann.params() == {"switch": "off"}


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("eWeLink_1000abcdef", "1000abcdef"),
        ("eWeLink_1000abcdef._ewelink._tcp.local.", "1000abcdef"),
        ("EWELINK_1000ABCDEF._ewelink._tcp.local", "1000abcdef"),
        ("eWeLink_1000abcdef (2)._ewelink._tcp.local.", "1000abcdef"),
        ("ihost-1001abcdef._ewelink._tcp.local.", None),
        ("zbbridgeu-1000abcdef._ewelink._tcp.local.", None),
        ("zbbridgeu-1000abcdef-wlan0._ewelink._tcp.local.", None),
        ("eWeLink_1000abcde._ewelink._tcp.local.", None),
        ("eWeLink_1000abcdefg._ewelink._tcp.local.", None),
        ("eWeLink_1000abcdeZ", None),
        ("printer._ipp._tcp.local.", None),
    ],
)
def test_instance_names(name: str, expected: str | None) -> None:
    assert device_id_from_name(name) == expected


def test_spm_sub_unit_id() -> None:
    """SPM-Main announces each sub-unit under its own name with TXT id = the sub-unit."""
    ann = parse_announcement(
        NAME,
        ["10.0.0.5"],
        8081,
        txt(id="1000fedcba", type="meter", seq="9", data1='{"current_00":12}'),
    )
    assert ann is not None
    assert ann.deviceid == "1000abcdef"
    assert ann.subdevid == "1000fedcba"
    assert ann.key == ("1000abcdef", "1000fedcba")


def test_no_data_means_alive_only() -> None:
    """ZbBridge-U announces without dataN; SPM-Main with empty encrypted data (Q5)."""
    bare = parse_announcement(NAME, ["10.0.0.6"], 8081, txt(type="zbbridgeu", seq="4"))
    assert bare is not None
    assert not bare.has_data
    assert bare.params() == {}
    empty = parse_announcement(
        NAME, ["10.0.0.6"], 8081, txt(seq="5", encrypt="true", iv=IV_A, data1="")
    )
    assert empty is not None
    assert empty.encrypted
    assert not empty.has_data
    assert empty.params(None) == {}


def test_addresses_ports_and_defaults() -> None:
    ann = parse_announcement(
        NAME, ["fe80::1", b"\x0a\x00\x00\x07", "10.0.0.7", "10.0.0.8"], None, txt(seq="1")
    )
    assert ann is not None
    assert ann.host == "10.0.0.7"
    assert ann.addresses == ("10.0.0.7", "10.0.0.8", "fe80::1")
    assert ann.port == 8081  # no SRV port: the default
    no_a = parse_announcement(NAME, [], 8090, txt(seq="1"))
    assert no_a is not None
    assert no_a.host is None
    assert no_a.port == 8090
    assert no_a.seq == 1
    no_seq = parse_announcement(NAME, [], 8090, {b"id": b"1000abcdef"})
    assert no_seq is not None
    assert no_seq.seq is None
    assert no_seq.local_type is None


def test_higher_apivers_data_not_parsed() -> None:
    ann = parse_announcement(NAME, ["10.0.0.9"], 8081, txt(apivers="2", seq="1", data1="{bad"))
    assert ann is not None
    assert not ann.has_data
    assert ann.apivers == 2


def test_encrypt_false_is_plaintext() -> None:
    """Only `encrypt=true` means encrypted (Q13: devices omit the key in DIY mode)."""
    ann = parse_announcement(
        NAME, ["10.0.0.9"], 8081, txt(seq="1", encrypt="false", data1='{"switch":"on"}')
    )
    assert ann is not None
    assert not ann.encrypted
    assert ann.params() == {"switch": "on"}


def test_rf_bridge_plaintext_repaired() -> None:
    ann = parse_announcement(
        NAME, ["10.0.0.9"], 8081, txt(type="rf", seq="1", data1='{"rfTrig0"="2024-01-01"}')
    )
    assert ann is not None
    assert ann.params() == {"rfTrig0": "2024-01-01"}


B64_IV = base64.b64encode(b"0" * 16).decode()


@pytest.mark.parametrize(
    ("name", "addresses", "port", "properties"),
    [
        ("printer._ipp._tcp.local.", [], 8081, txt()),
        (None, [], 8081, txt()),
        ("eWeLink_" + "a" * 300, [], 8081, txt()),
        (NAME, [], 8081, "not a mapping"),
        (NAME, [], 8081, {1: b"x"}),
        (NAME, [], 8081, {b"seq": 5}),
        (NAME, [], 8081, {b"\xff": b"1"}),
        (NAME, [], 8081, {b"": b"1"}),
        (NAME, [], 8081, {b"a=b": b"1"}),
        (NAME, [], 8081, {b"type": b"\xff"}),
        (NAME, [], 8081, txt(seq="-1")),
        (NAME, [], 8081, txt(seq="1.5")),
        (NAME, [], 8081, txt(seq="9" * 20)),
        (NAME, [], 8081, txt(seq="\u0661")),
        (NAME, [], 8081, txt(apivers="x")),
        (NAME, [], 8081, txt(id="bad id!")),
        (NAME, [], 8081, txt(type="x" * 40)),
        (NAME, [], 8081, txt(data1="x" * 260)),
        (NAME, [], 8081, {f"k{i}".encode(): b"v" * 240 for i in range(40)}),
        (NAME, [], 8081, txt(data1='{"a":', data3="1}")),
        (NAME, [], 8081, txt(data2='{"a":1}')),
        (NAME, [], 8081, txt(**{f"data{i}": "x" for i in range(1, 40)})),
        (NAME, [], 8081, txt(data1="not json")),
        (NAME, [], 8081, txt(data1="[1]")),
        (NAME, [], 8081, txt(encrypt="true", data1=DATA_B)),
        (NAME, [], 8081, txt(encrypt="true", iv="short", data1=DATA_B)),
        (NAME, [], 8081, txt(encrypt="true", iv="!!", data1=DATA_B)),
        (NAME, [], 8081, txt(encrypt="true", iv=B64_IV, data1="!!notb64")),
        (
            NAME,
            [],
            8081,
            txt(encrypt="true", iv=B64_IV, data1=base64.b64encode(b"x" * 15).decode()),
        ),
        (NAME, "10.0.0.1", 8081, txt()),
        (NAME, 5, 8081, txt()),
        (NAME, ["999.1.1.1"], 8081, txt()),
        (NAME, [None], 8081, txt()),
        (NAME, [], 70000, txt()),
        (NAME, [], "8081", txt()),
        (NAME, [], True, txt()),
    ],
)
def test_invalid_input_gives_none_and_one_debug_line(
    name: Any, addresses: Any, port: Any, properties: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="custom_components.ewelink.lan")
    assert parse_announcement(name, addresses, port, properties) is None
    lines = [r for r in caplog.records if r.name.startswith("custom_components.ewelink.lan")]
    assert len(lines) == 1
    assert lines[0].levelno == logging.DEBUG
