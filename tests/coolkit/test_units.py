"""Unit tests of the client's pure parts: signing, pacing, regions, parsing."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from custom_components.ewelink.coolkit import (
    CLOUD,
    RateLimiter,
    Servers,
    Thing,
    Tokens,
    device_digest,
    region_for_country_code,
    sign,
)
from custom_components.ewelink.coolkit.signing import query_message
from custom_components.ewelink.coolkit.ws import ping_interval

PACKAGE = Path(__file__).resolve().parents[2] / "custom_components" / "ewelink"

# coolkit-cloud.md §3.3: the official vectors and the derived GET vector.
DOC_SECRET = "OdPuCZ4PkPPi0rVKRVcGmll2NM6vVk0c"


@pytest.mark.parametrize(
    ("key", "message", "expected"),
    [
        (
            DOC_SECRET,
            '{"email":"1234@gmail.com","password":"12345678","countryCode":"+1"}',
            "ttZ/gluzqrafvGonjMD20p4//arW6KoZKbo1SOMEzCA=",
        ),
        (
            DOC_SECRET,
            '{"email": "1234@gmail.com", "password": "12345678", "countryCode": "+1"}',
            "cE/Wl57Ithy21Elieq5wFsYwJWl2IrkBxlmuCnwI73c=",
        ),
        ("abc", "ABC_123", "v1+mfNY2ukxswM8sZOTg99srZsVnUVv9DGXeav1096M="),
    ],
)
def test_official_signature_vectors(key: str, message: str, expected: str) -> None:
    """Sign reproduces CoolKit's published vectors byte for byte."""
    assert sign(key, message) == expected
    assert sign(key, message.encode()) == expected


def test_get_signature_uses_sorted_decoded_query() -> None:
    """GET parameters are sorted by name and signed decoded (+ stays +)."""
    params = {
        "ts": 1558004249,
        "nonce": "2323dfgh",
        "deviceid": "1000012345",
        "appid": "McFJj4Noke1mGDZCR1QarGW7P9Ycp0Vr",
    }
    message = query_message(params)
    assert message == (
        "appid=McFJj4Noke1mGDZCR1QarGW7P9Ycp0Vr&deviceid=1000012345&nonce=2323dfgh&ts=1558004249"
    )
    assert sign(DOC_SECRET, message) == "2CqlYZcS8x6LI27DgfX3QdqnVCFqbEz8sZXtOGEFuGc="
    assert query_message({"countryCode": "+86"}) == "countryCode=+86"


def test_device_digest_check_value() -> None:
    """The digest is lowercase hex sha256 of deviceid + apikey (documented check value)."""
    assert device_digest("12", "3") == (
        "a665a45920422f9d417e4867efdc4fb8a04a1f3fff1fa07e998e86f7f7a27ae3"
    )


def test_rate_limiter_spaces_one_endpoint_and_caps_the_window() -> None:
    """500 ms per endpoint; at most N calls in any window, across endpoints."""
    now = [100.0]
    limiter = RateLimiter(min_interval=0.5, max_calls=3, window=10.0, clock=lambda: now[0])
    assert limiter.reserve("/a") == 0
    assert limiter.reserve("/a") == pytest.approx(0.5)
    assert limiter.reserve("/a") == pytest.approx(1.0)
    # Other endpoints are not spaced, but the window is full: the 4th call waits for the 1st + 10 s.
    assert limiter.reserve("/b") == pytest.approx(10.0)
    assert limiter.reserve("/c") == pytest.approx(10.5)
    now[0] = 200.0
    assert limiter.reserve("/d") == 0
    assert limiter.reserve("/d", min_interval=2.0) == pytest.approx(2.0)


def test_rate_limiter_never_exceeds_the_window_under_any_order() -> None:
    """Whatever the order of keys, no window of W seconds holds more than N reservations."""
    now = [0.0]
    limiter = RateLimiter(min_interval=0.5, max_calls=5, window=3.0, clock=lambda: now[0])
    slots: list[float] = []
    for i in range(40):
        now[0] += 0.05
        slots.append(now[0] + limiter.reserve(f"/k{i % 4}"))
    slots.sort()
    for i, start in enumerate(slots):
        inside = [s for s in slots[i:] if s < start + 3.0]
        assert len(inside) <= 5


@pytest.mark.parametrize(
    ("code", "region"),
    [("+86", "cn"), ("86", "cn"), ("+1", "us"), ("+49", "eu"), ("+44", "eu"), ("+91", "as"),
     ("+852", "as"), ("+61", "us"), ("+999", None)],
)  # fmt: skip
def test_region_guess(code: str, region: str | None) -> None:
    """A first guess from the country code (10004 corrects it)."""
    assert region_for_country_code(code) == region


def test_servers_cloud_and_custom() -> None:
    """Real hosts per region, or one custom base standing in for all of them."""
    assert CLOUD.api("eu") == "https://eu-apia.coolkit.cc"
    assert CLOUD.api("cn") == "https://cn-apia.coolkit.cn"
    assert CLOUD.dispatch("us") == "https://us-dispa.coolkit.cc/dispatch/app"
    assert CLOUD.device_dispatch("as") == ("as-dispd.coolkit.cc", 443)
    assert CLOUD.websocket_scheme == "wss"
    custom = Servers("http://127.0.0.1:8080/")
    assert custom.api("eu") == "http://127.0.0.1:8080/eu"
    assert custom.dispatch("eu") == "http://127.0.0.1:8080/eu/dispatch/app"
    assert custom.oauth_page == "http://127.0.0.1:8080/oauth/index.html"
    assert custom.device_dispatch("eu") == ("127.0.0.1", 8080)
    assert custom.websocket_scheme == "ws"
    assert Servers("https://sim.example").websocket_scheme == "wss"
    with pytest.raises(ValueError, match="http"):
        Servers("ftp://x")


def test_tokens_refresh_due_at_half_life_and_round_trip() -> None:
    """Proactive refresh starts at half the access token's life; as_dict/from_dict round-trips."""
    tokens = Tokens.issued_now(
        "a" * 40, "r" * 40, access_lifetime=100, refresh_lifetime=200, now=1000
    )
    assert not tokens.refresh_due(now=1049)
    assert tokens.refresh_due(now=1050)
    assert not tokens.refresh_expired(now=1199)
    assert tokens.refresh_expired(now=1200)
    assert Tokens.from_dict(tokens.as_dict()) == tokens
    assert "a" * 40 not in repr(tokens)


def test_thing_parsing_is_defensive() -> None:
    """Groups and broken items are skipped; shared devices keep the owner's apikey."""
    assert Thing.from_api({"itemType": 3, "itemData": {"id": "g", "name": "Group"}}) is None
    assert Thing.from_api({"itemType": 1, "itemData": {"name": "no id"}}) is None
    assert Thing.from_api({"itemType": 1, "itemData": "garbage"}) is None
    thing = Thing.from_api(
        {
            "itemType": 2,
            "index": 4,
            "itemData": {
                "deviceid": "1000abcdef",
                "apikey": "owner-key",
                "name": "Plug",
                "online": True,
                "extra": {"uiid": "32", "model": "PSF-X67"},
                "params": {"switch": "on", "parentid": "1000bridge"},
                "family": {"familyid": "f1", "roomid": "r1"},
                "brandName": "SONOFF",
                "productModel": "POWR2",
                "tags": "not a dict",
            },
        }
    )
    assert thing is not None
    assert (thing.deviceid, thing.uiid, thing.shared, thing.owner_apikey) == (
        "1000abcdef", 32, True, "owner-key"
    )  # fmt: skip
    assert thing.parent_id == "1000bridge"
    assert thing.tags == {}
    assert (thing.family_id, thing.room_id, thing.index) == ("f1", "r1", 4)
    assert "owner-key" not in repr(thing)


def test_ping_interval() -> None:
    """hbInterval - 7 for real intervals; half the interval for tiny test intervals."""
    assert ping_interval(145) == 138
    assert ping_interval(2) == 1


@pytest.mark.parametrize("package", ["coolkit", "pairing"])
def test_protocol_packages_do_not_import_home_assistant(package: str) -> None:
    """The protocol packages stay independent of Home Assistant."""
    files = list((PACKAGE / package).rglob("*.py"))
    assert files
    for path in files:
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                assert not name.startswith("homeassistant"), f"{path} imports {name}"
