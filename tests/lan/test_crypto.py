"""AES-128-CBC with MD5(devicekey): the reference's vectors and the tolerant decryption."""

from __future__ import annotations

import base64

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
import pytest

from custom_components.ewelink.lan import (
    LanDecryptError,
    aes_key,
    decrypt,
    decrypt_params,
    encrypt,
    encrypt_params,
    loads_params,
)
from custom_components.ewelink.lan.crypto import b64decode, pkcs7_pad

from .vectors import (
    DATA_A,
    DATA_B,
    DATA_C,
    IV_A,
    IV_B,
    IV_C,
    KEY_A,
    KEY_B,
    KEY_C,
    MD5_A,
    MD5_B,
    PLAIN_A,
    PLAIN_B,
    PLAIN_C,
)


def test_key_is_the_raw_md5_digest() -> None:
    assert aes_key(KEY_A).hex() == MD5_A
    assert aes_key(KEY_B).hex() == MD5_B
    assert len(aes_key(KEY_A)) == 16


def test_vector_a_double_padding() -> None:
    """GTWS78 pads to the block with 02 02, then adds a full PKCS7 block (Q3)."""
    raw = Cipher(
        algorithms.AES(bytes.fromhex(MD5_A)), modes.CBC(base64.b64decode(IV_A))
    ).decryptor()
    padded = raw.update(base64.b64decode(DATA_A)) + raw.finalize()
    assert padded == PLAIN_A + b"\x02\x02" + b"\x10" * 16  # what the reference describes
    assert decrypt(DATA_A, IV_A, KEY_A) == PLAIN_A
    assert decrypt_params(DATA_A, IV_A, KEY_A) == {"switches": [{"outlet": 0, "switch": "off"}]}


def test_vector_b_both_ways() -> None:
    """16 plaintext bytes get a full 0x10 padding block."""
    assert decrypt(DATA_B, IV_B, KEY_B) == PLAIN_B
    assert encrypt(PLAIN_B, KEY_B, base64.b64decode(IV_B)) == (DATA_B, IV_B)
    assert len(base64.b64decode(DATA_B)) == 32


def test_vector_c_both_ways() -> None:
    assert encrypt(PLAIN_C, KEY_C, b"0123456789abcdef") == (DATA_C, IV_C)
    assert encrypt_params({"switch": "on"}, KEY_C, b"0123456789abcdef") == (DATA_C, IV_C)
    assert decrypt_params(DATA_C, IV_C, KEY_C) == {"switch": "on"}


def test_fresh_iv_every_time() -> None:
    first = encrypt_params({"switch": "on"}, KEY_A)
    second = encrypt_params({"switch": "on"}, KEY_A)
    assert first[1] != second[1]
    assert first[0] != second[0]
    assert decrypt_params(*first, KEY_A) == decrypt_params(*second, KEY_A) == {"switch": "on"}


def test_round_trip_non_ascii_and_long() -> None:
    params = {"name": "Küche ☕", "switches": [{"outlet": i, "switch": "on"} for i in range(20)]}
    data, iv = encrypt_params(params, KEY_B)
    assert decrypt_params(data, iv, KEY_B) == params


def test_pkcs7() -> None:
    assert pkcs7_pad(b"") == b"\x10" * 16
    assert pkcs7_pad(b"a" * 15) == b"a" * 15 + b"\x01"
    assert len(pkcs7_pad(b"a" * 16)) == 32


def test_empty_data_means_no_params() -> None:
    """SPM-Main and ZbBridge-U announce encrypted records with empty data (Q5)."""
    assert decrypt_params("", IV_A, KEY_A) == {}
    assert decrypt_params("", None, KEY_A) == {}


def test_rf_equals_repaired() -> None:
    """The RF Bridge writes "=" where ":" belongs (Q4)."""
    broken = b'{"rfTrig0"="2020-01-01T00:00:00.000Z","rfChl"=0}'.replace(b'"rfChl"=0', b'"rfChl":0')
    assert loads_params(broken) == {"rfTrig0": "2020-01-01T00:00:00.000Z", "rfChl": 0}
    data, iv = encrypt(broken, KEY_A)
    assert decrypt_params(data, iv, KEY_A)["rfTrig0"] == "2020-01-01T00:00:00.000Z"
    with pytest.raises(LanDecryptError):
        loads_params(b'{"switch"="on"}')  # only RF Bridge data is repaired
    with pytest.raises(LanDecryptError):
        loads_params(b'{"rfChl" = }')


def test_missing_base64_padding_tolerated() -> None:
    assert decrypt(DATA_C.rstrip("="), IV_C.rstrip("="), KEY_C) == PLAIN_C
    assert b64decode("YQ") == b"a"


@pytest.mark.parametrize(
    ("data", "iv"),
    [
        ("not base64!", IV_A),
        (DATA_A, "not base64!"),
        (DATA_A, base64.b64encode(b"short").decode()),
        (base64.b64encode(b"x" * 17).decode(), IV_A),
        (base64.b64encode(b"x" * 70_000).decode(), IV_A),
    ],
)
def test_bad_shapes_raise_typed_errors(data: str, iv: str) -> None:
    with pytest.raises(LanDecryptError):
        decrypt(data, iv, KEY_A)


def test_wrong_key_is_a_decrypt_error_without_the_key_in_the_message() -> None:
    with pytest.raises(LanDecryptError) as err:
        decrypt_params(DATA_B, IV_B, KEY_A)
    assert KEY_A not in str(err.value)
    assert KEY_B not in str(err.value)


def test_encrypted_data_without_iv() -> None:
    with pytest.raises(LanDecryptError):
        decrypt_params(DATA_B, None, KEY_B)


def test_encrypt_rejects_a_bad_iv() -> None:
    with pytest.raises(ValueError, match="16 bytes"):
        encrypt(b"{}", KEY_A, b"short")


@pytest.mark.parametrize("raw", [b"\xff\xfe", b"[1, 2]", b'"text"', b"{", b"[" * 100_000, b"null"])
def test_loads_params_refuses_non_objects(raw: bytes) -> None:
    with pytest.raises(LanDecryptError):
        loads_params(raw)


def test_loads_params_blank_is_empty() -> None:
    assert loads_params(b"  ") == {}
    assert loads_params('{"a": 1}') == {"a": 1}
